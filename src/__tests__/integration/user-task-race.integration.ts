import {BindingScope} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {CamundaService} from '../../engines/camunda';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {eventually, givenTestApp, mapWorkflows, TestApp} from '../fixtures/app';
import {deployBpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/**
 * Camunda that takes a while to complete a user task, as under load; for
 * the engine ids in `failAfterCompleting`, the completion reaches the engine
 * and then fails, as when the database commit after it fails.
 */
class SlowCompletingCamunda extends CamundaService {
  static readonly failAfterCompleting = new Set<string>();

  override async completeUserTask(
    userTaskId: string,
    variables?: AnyObject,
  ): Promise<void> {
    await new Promise(r => setTimeout(r, 300));
    await super.completeUserTask(userTaskId, variables);
    if (SlowCompletingCamunda.failAfterCompleting.delete(userTaskId)) {
      throw new Error('the commit after the engine call failed');
    }
  }
}

/**
 * A client whose completion seems lost retries it on another instance while
 * the first is still running: the user task is completed and announced once.
 */
describe('Completing one user task twice at once (PostgreSQL, Camunda)', function () {
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
      after: app =>
        app
          .bind(TaskServiceBindings.CUSTOM_BPMN_RUNNER)
          .toClass(SlowCompletingCamunda)
          .inScope(BindingScope.SINGLETON),
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

  /** A task of the child workflow, started by an event, with its workflow running. */
  async function givenTask(name: string): Promise<Task> {
    const eventKey = `${name}-${process.pid}`;
    const taskKey = `${name}-review-${process.pid}`;
    await mapWorkflows(client, admin, {
      eventKey,
      eventWorkflow: await deploy('parent'),
      taskKey,
      taskWorkflow: await deploy('child'),
    });
    const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
    await processor.handle({
      key: eventKey,
      payload: {tasks: {values: [{key: taskKey, name: 'Raced'}]}},
      timestamp: Date.now(),
      source: 'test',
    });
    return eventually(async () => {
      const res = await client
        .get('/tasks')
        .query({filter: JSON.stringify({where: {key: taskKey}})})
        .set(admin)
        .expect(200);
      const [found] = res.body as Task[];
      return found?.externalId ? found : undefined;
    }, 'the task and its workflow');
  }

  function pendingUserTask(task: Task, after?: UserTask): Promise<UserTask> {
    return eventually(async () => {
      const res = await client
        .get(`/tasks/${task.id}/user-tasks`)
        .set(admin)
        .expect(200);
      return (res.body as UserTask[]).find(
        u => u.status === 'pending' && u.id !== after?.id,
      );
    }, 'a pending user task');
  }

  it('answers 204 to one and 400 to the other, and announces the completion once', async () => {
    const task = await givenTask('race');
    const userTask = await pendingUserTask(task);

    const route = `/tasks/${task.id}/user-tasks/${userTask.id}/complete`;
    const answers = await Promise.all([
      client.patch(route).set(admin),
      client.patch(route).set(admin),
    ]);
    expect(answers.map(a => a.status).sort()).to.eql([204, 400]);
    expect(answers.find(a => a.status === 400)!.body.error.message).to.equal(
      'User Task is already completed',
    );

    const announced = await db.query<{n: string}>(
      `SELECT count(*) AS n FROM main.outbox_events
        WHERE key = 'user-task-completed'
          AND (event->'payload'->'userTask'->>'id') = $1`,
      [userTask.id],
    );
    expect(announced).to.eql([{n: '1'}]);
  });

  it('announces a completion whose commit failed before task-completed, and once', async () => {
    const task = await givenTask('lost-commit');
    const review = await pendingUserTask(task);
    await client
      .patch(`/tasks/${task.id}/user-tasks/${review.id}/complete`)
      .set(admin)
      .expect(204);
    const approve = await pendingUserTask(task, review);
    SlowCompletingCamunda.failAfterCompleting.add(approve.externalId!);
    const route = `/tasks/${task.id}/user-tasks/${approve.id}/complete`;
    const lost = await client.patch(route).set(admin);
    expect(lost.status).to.equal(500);

    // The engine went on to the end-task step, which finds the user task
    // done in the engine but not here.
    await eventually(async () => {
      const res = await client.get(`/tasks/${task.id}`).set(admin).expect(200);
      return res.body.status === 'completed' || undefined;
    }, 'the task completed');
    const retried = await client.patch(route).set(admin);
    expect(retried.status).to.equal(400);
    expect(retried.body.error.message).to.equal(
      'User Task is already completed',
    );

    const story = (
      await db.query<{key: string; event: AnyObject}>(
        'SELECT key, event FROM main.outbox_events ORDER BY seq',
      )
    )
      .filter(({event: {payload}}) =>
        [
          ...(payload.createdTasks ?? []).map((created: Task) => created.id),
          payload.task?.id,
          payload.taskId,
        ].includes(task.id),
      )
      .map(({key, event}) =>
        key === 'user-task-completed'
          ? `${key}:${event.payload.userTask.id}`
          : key,
      );
    expect(story).to.eql([
      'task-created',
      `user-task-completed:${review.id}`,
      `user-task-completed:${approve.id}`,
      'task-completed',
    ]);
    const rows = await client
      .get(`/tasks/${task.id}/user-tasks`)
      .set(admin)
      .expect(200);
    expect((rows.body as UserTask[]).map(u => u.status)).to.eql([
      'completed',
      'completed',
    ]);
  });
});
