import {expect} from '@loopback/testlab';
import {TaskServiceError} from '../../errors';
import {WorkflowInputValidator} from '../../services';

describe('WorkflowInputValidator (unit)', () => {
  const validator = new WorkflowInputValidator();
  const schema = {
    type: 'object',
    required: ['taskId', 'amount'],
    properties: {
      taskId: {type: 'string', format: 'uuid'},
      amount: {type: 'number', minimum: 0},
    },
  };

  function refusal(fn: () => void): TaskServiceError {
    try {
      fn();
    } catch (err) {
      expect(err).to.be.instanceOf(TaskServiceError);
      return err as TaskServiceError;
    }
    throw new Error('expected a refusal');
  }

  it('accepts no schema, and any JSON Schema object', () => {
    validator.assertSchema(undefined);
    validator.assertSchema(null);
    validator.assertSchema(schema);
  });

  it('refuses a schema that is not an object or not a valid JSON Schema', () => {
    expect(refusal(() => validator.assertSchema([])).message).to.equal(
      'inputSchema must be a JSON Schema object.',
    );
    const invalid = refusal(() => validator.assertSchema({type: 'no-such'}));
    expect(invalid.kind).to.equal('invalid');
    expect(invalid.message).to.match(/^inputSchema is not a valid JSON Schema/);
  });

  it('accepts valid input, and any input without a schema', () => {
    validator.assertValid(
      {taskId: '0b8e1a9c-3a6b-4f4e-9d7e-2f1c6a5b4d3e', amount: 0},
      schema,
    );
    validator.assertValid({anything: true}, undefined);
  });

  it('lists every way the input breaks the schema, with formats checked', () => {
    const err = refusal(() =>
      validator.assertValid({taskId: 'nope', amount: -1}, schema),
    );
    expect(err.kind).to.equal('invalid');
    expect(err.message).to.match(/^Workflow input is invalid: /);
    expect(err.message).to.match(/\/taskId must match format "uuid"/);
    expect(err.message).to.match(/\/amount must be >= 0/);
    expect(err.details).to.containDeep([{path: '/taskId'}, {path: '/amount'}]);
    const missing = refusal(() => validator.assertValid({}, schema));
    expect(missing.message).to.match(/must have required property 'taskId'/);
  });
});
