import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {eventually, givenTestApp, mapWorkflows, TestApp} from '../fixtures/app';
import {deployBpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/**
 * A step completes in the engine and its process dies before it records the
 * user tasks the workflow reached: nobody would ever see them, and the task
 * would wait forever. The command workers' repair round records them.
 */
describe('User tasks a crash kept from being recorded (PostgreSQL, Camunda)', function () {
  this.timeout(120000);
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const deployments: string[] = [];

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    t = await givenTestApp({
      db,
      commands: [CreateTaskCommand, EndTaskCommand],
      workflowConfig: {userTaskRepairIntervalMs: 300},
    });
    client = t.client;
  });
  after(async () => {
    await t?.stop();
    for (const id of deployments) {
      await camunda(`/process-definition/${id}?cascade=true`, {
        method: 'DELETE',
      });
    }
    await db?.drop();
  });

  async function deploy(name: 'parent' | 'child'): Promise<string> {
    const id = await deployBpmn(client, admin, name);
    deployments.push(id);
    return id;
  }

  async function userTasksOf(taskId: string): Promise<UserTask[]> {
    const res = await client
      .get(`/tasks/${taskId}/user-tasks`)
      .set(admin)
      .expect(200);
    return res.body;
  }

  it('records the user task the engine waits at, once, and the task goes on to completion', async () => {
    const eventKey = `repair-${process.pid}`;
    const taskKey = `repair-review-${process.pid}`;
    await mapWorkflows(client, admin, {
      eventKey,
      eventWorkflow: await deploy('parent'),
      taskKey,
      taskWorkflow: await deploy('child'),
    });
    const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
    await processor.handle({
      key: eventKey,
      payload: {tasks: {values: [{key: taskKey, name: 'Repaired'}]}},
      timestamp: Date.now(),
      source: 'test',
    });
    const task = await eventually(async () => {
      const res = await client
        .get('/tasks')
        .query({filter: JSON.stringify({where: {key: taskKey}})})
        .set(admin)
        .expect(200);
      const [found] = res.body as Task[];
      return found?.externalId ? found : undefined;
    }, 'the task and its workflow');
    const [first] = await eventually(async () => {
      const list = await userTasksOf(task.id!);
      return list.length === 1 ? list : undefined;
    }, 'its first user task');

    // As if the step that reached it had died before recording it.
    // A repair round may come between this DELETE and any read that follows,
    // so the deletion is proven by what it removed, and the repair by a row
    // that is not the deleted one.
    const deleted = await db.query<{id: string}>(
      'DELETE FROM main.user_tasks WHERE task_id = $1 RETURNING id',
      [task.id],
    );
    expect(deleted.map(row => row.id)).to.eql([first.id]);

    const [repaired] = await eventually(
      async () => {
        const list = await userTasksOf(task.id!);
        return list.length && list[0].id !== first.id ? list : undefined;
      },
      'the repair round to record it',
      20000,
      100,
    );
    expect(repaired).to.containDeep({
      name: first.name,
      externalId: first.externalId,
      status: 'pending',
    });
    // Later rounds find it recorded: still one.
    await new Promise(r => setTimeout(r, 1000));
    expect(await userTasksOf(task.id!)).to.have.length(1);

    // The task goes on: both user tasks completed, the workflow ends.
    await client
      .patch(`/tasks/${task.id}/user-tasks/${repaired.id}/complete`)
      .set(admin)
      .expect(204);
    const second = await eventually(
      async () =>
        (await userTasksOf(task.id!)).find(u => u.status === 'pending'),
      'the second user task',
    );
    await client
      .patch(`/tasks/${task.id}/user-tasks/${second.id}/complete`)
      .set(admin)
      .expect(204);
    await eventually(
      async () =>
        (await client.get(`/tasks/${task.id}`).set(admin).expect(200)).body
          .status === 'completed',
      'the task to be completed',
    );
  });
});
