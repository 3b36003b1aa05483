import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {eventually, givenTestApp, mapWorkflows, TestApp} from '../fixtures/app';
import {deployBpmn} from '../fixtures/bpmn';
import {TestDatabase} from '../fixtures/database';
import {bindInProcessEngine, InProcessEngine} from '../../testing';
import {RecordingConnector} from '../fixtures/recording-connector';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/** Nothing listens here: a call that reached for Camunda would fail. */
const NO_ENGINE_URL = 'http://127.0.0.1:9/engine-rest';

describe('The engine ports are the only seam: the whole flow on an in-process engine (PostgreSQL, no Camunda)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  let engine: InProcessEngine;
  let outgoing: RecordingConnector;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const eventKey = 'order-received';
  const taskKey = 'review';

  before(async () => {
    db = await TestDatabase.create(['core']);
    outgoing = new RecordingConnector();
    t = await givenTestApp({
      db,
      outgoing,
      engineUrl: NO_ENGINE_URL,
      commands: [CreateTaskCommand, EndTaskCommand],
      // After the component is mounted: the ports are looked up when used.
      after: app => {
        engine = bindInProcessEngine(app);
      },
    });
    client = t.client;
  });

  after(async () => {
    await t?.stop();
    await db?.drop();
  });

  function deploy(name: 'parent' | 'child'): Promise<string> {
    return deployBpmn(client, admin, name);
  }

  async function userTasksOf(taskId: string): Promise<UserTask[]> {
    const res = await client
      .get(`/tasks/${taskId}/user-tasks`)
      .query({filter: JSON.stringify({order: ['createdOn ASC']})})
      .set(admin)
      .expect(200);
    return res.body;
  }

  it('uses the custom engine bound after the component was mounted', async () => {
    expect(await t.app.get(TaskServiceBindings.WORKFLOW_MANAGER)).to.equal(
      engine,
    );
  });

  it('event → create-tasks → child instance with user tasks → end-task → completed', async () => {
    await mapWorkflows(client, admin, {
      eventKey,
      eventWorkflow: await deploy('parent'),
      taskKey,
      taskWorkflow: await deploy('child'),
    });

    const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
    await processor.handle({
      key: eventKey,
      payload: {tasks: {values: [{key: taskKey, name: 'Review order 42'}]}},
      timestamp: Date.now(),
      source: 'test',
    });

    const task = await eventually(async () => {
      const res = await client.get('/tasks').set(admin).expect(200);
      const [found] = res.body as Task[];
      return found?.externalId ? found : undefined;
    }, 'the task with its workflow instance');
    expect(task).to.containDeep({name: 'Review order 42', status: 'pending'});

    const [first] = await userTasksOf(task.id!);
    expect(first).to.containDeep({name: 'First review', status: 'pending'});
    await client
      .patch(`/tasks/${task.id}/user-tasks/${first.id}/complete`)
      .set(admin)
      .expect(204);
    const [, second] = await userTasksOf(task.id!);
    expect(second).to.containDeep({name: 'Second review', status: 'pending'});
    await client
      .patch(`/tasks/${task.id}/user-tasks/${second.id}/complete`)
      .set(admin)
      .expect(204);

    const done = await eventually(async () => {
      const res = await client.get(`/tasks/${task.id}`).set(admin).expect(200);
      return res.body.status === 'completed' && res.body;
    }, 'the task completed by end-task');
    expect(done.endDate).to.be.a.String();
    expect(engine.instance(task.externalId!)?.ended).to.be.true();
    expect(engine.incidents).to.eql([]);

    await eventually(
      () => outgoing.keys().includes('task-completed'),
      'task-completed published',
    );
    expect(outgoing.keys()).to.eql([
      'task-created',
      'user-task-completed',
      'user-task-completed',
      'task-completed',
    ]);
  });
});
