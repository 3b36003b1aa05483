import {expect} from '@loopback/testlab';
import {readTaskValues} from '../../commands';

describe('readTaskValues (unit): the process variable `tasks`', () => {
  it('takes values as an array, keeping only task fields that are set', () => {
    expect(
      readTaskValues({
        values: [
          {
            key: 'review',
            name: 'Review',
            priority: 'high',
            metadata: {a: 1},
            assigneeId: null,
            unknownField: 'dropped',
          },
        ],
      }),
    ).to.eql([
      {key: 'review', name: 'Review', priority: 'high', metadata: {a: 1}},
    ]);
  });

  it('takes the original forms: the whole variable or its values as JSON strings', () => {
    const expected = [{key: 'k', name: 'n'}];
    expect(readTaskValues(JSON.stringify({values: expected}))).to.eql(expected);
    expect(readTaskValues({values: JSON.stringify(expected)})).to.eql(expected);
  });

  it('says what is wrong with a missing or malformed variable', () => {
    expect(() => readTaskValues(undefined)).to.throw(
      /missing or not an object/,
    );
    expect(() => readTaskValues('{oops')).to.throw(/"tasks" is not valid JSON/);
    expect(() => readTaskValues({values: 3})).to.throw(/must be an array/);
    expect(() => readTaskValues({values: '[1'})).to.throw(
      /"tasks.values" is not valid JSON/,
    );
  });

  it('says which entry lacks a key or a name or has a value outside its enum', () => {
    expect(() => readTaskValues({values: ['x']})).to.throw(
      'tasks.values[0] is not an object.',
    );
    expect(() => readTaskValues({values: [{name: 'n'}]})).to.throw(
      'tasks.values[0] has no "key".',
    );
    expect(() =>
      readTaskValues({values: [{key: 'k', name: 'n'}, {key: 'k'}]}),
    ).to.throw('tasks.values[1] has no "name".');
    expect(() =>
      readTaskValues({values: [{key: 'k', name: 'n', priority: 'urgent'}]}),
    ).to.throw('tasks.values[0].priority must be one of low, medium, high.');
    expect(() =>
      readTaskValues({values: [{key: 'k', name: 'n', status: 'done'}]}),
    ).to.throw(/status must be one of pending, in progress, completed/);
  });
});
