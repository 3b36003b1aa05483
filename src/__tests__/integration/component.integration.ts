import {AuthenticationBindings} from '@loopback/authentication';
import {MiddlewareSequence, RestBindings} from '@loopback/rest';
import {expect} from '@loopback/testlab';
import {IWorkflowManager} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {givenTestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';

describe('TaskServiceComponent bindings', () => {
  let db: TestDatabase;

  before(async () => {
    db = await TestDatabase.create(['core']);
  });
  after(async () => db?.drop());

  it('gives every binding key its own string', () => {
    const keys = Object.values(TaskServiceBindings).map(k => k.key);
    expect(new Set(keys).size).to.equal(keys.length);
    expect(TaskServiceBindings.INCOMING_CONNECTOR.key).to.not.equal(
      TaskServiceBindings.OUTGOING_CONNECTOR.key,
    );
  });

  it('installs its own middleware sequence unless told not to', async () => {
    const t = await givenTestApp({db});
    try {
      const sequence = t.app.restServer.getBinding(RestBindings.SEQUENCE);
      expect(sequence.valueConstructor).to.equal(MiddlewareSequence);
    } finally {
      await t.stop();
    }
  });

  it('with useCustomSequence, leaves authentication to the host', async () => {
    const t = await givenTestApp({
      db,
      before: app =>
        app.bind(TaskServiceBindings.CONFIG).to({useCustomSequence: true}),
    });
    try {
      expect(t.app.isBound(AuthenticationBindings.COMPONENT.key)).to.be.false();
      // No authentication installed: the host's sequence decides, here none.
      await t.client.get('/tasks/count').expect(200);
    } finally {
      await t.stop();
    }
  });

  it('uses an engine bound at CUSTOM_BPMN_RUNNER as the workflow manager', async () => {
    const custom = {name: 'my engine'} as unknown as IWorkflowManager;
    const t = await givenTestApp({
      db,
      before: app =>
        app.bind(TaskServiceBindings.CUSTOM_BPMN_RUNNER).to(custom),
    });
    try {
      expect(await t.app.get(TaskServiceBindings.WORKFLOW_MANAGER)).to.equal(
        custom,
      );
    } finally {
      await t.stop();
    }
  });
});
