import {BindingScope} from '@loopback/core';
import {AnyObject, Options} from '@loopback/repository';
import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {TaskHttpBindings, TaskHttpComponent} from '../../connectors/http';
import {CamundaService} from '../../engines/camunda';
import {StartedInstance, StartOptions} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {EventType, Task, UserTask} from '../../models';
import {eventBusinessKey, UserTaskService} from '../../services';
import {eventually, givenTestApp, mapWorkflows, TestApp} from '../fixtures/app';
import {deployBpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {testHttpConfig} from '../fixtures/http-config';
import {
  concerns,
  EventBody,
  OrderedReceiver,
} from '../fixtures/ordered-receiver';
import {READ_TASK_TOPIC, ReadTaskCommand} from '../fixtures/read-task.command';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/** Camunda, with a connection that can break right after a start. */
class CrashingCamunda extends CamundaService {
  /** Definition ids whose next start "crashes" after the engine made it. */
  readonly crashAfterStartOf = new Set<string>();

  override async start(
    definitionId: string,
    input: AnyObject,
    options?: StartOptions,
  ): Promise<StartedInstance> {
    const instance = await super.start(definitionId, input, options);
    if (this.crashAfterStartOf.delete(definitionId)) {
      throw new Error(`connection reset after starting ${instance.id}`);
    }
    return instance;
  }
}

/** Keeps the transactions that record user tasks open a while (see start-once). */
class SlowUserTaskService extends UserTaskService {
  override async updateList(
    taskId: string,
    instanceId: string,
    options?: Options,
  ): Promise<UserTask[]> {
    if (options?.transaction) await new Promise(r => setTimeout(r, 300));
    return super.updateList(taskId, instanceId, options);
  }
}

describe('Order and starts made once on a real Camunda 7 (PostgreSQL, webhooks to a real receiver)', function () {
  this.timeout(180000);
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  let engine: CrashingCamunda;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const deployments: string[] = [];
  const receivers: OrderedReceiver[] = [];
  let parent: string;

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    t = await givenTestApp({
      db,
      commands: [CreateTaskCommand, EndTaskCommand, ReadTaskCommand],
      before: app =>
        app
          .bind(TaskServiceBindings.SUB_TASK_SERVICE)
          .toClass(SlowUserTaskService),
      after: app => {
        app.component(TaskHttpComponent);
        app.bind(TaskHttpBindings.CONFIG).to(
          testHttpConfig({
            delivery: {
              maxAttempts: 100,
              initialBackoffMs: 50,
              maxBackoffMs: 250,
              pollIntervalMs: 25,
            },
          }),
        );
        app
          .bind(TaskServiceBindings.CUSTOM_BPMN_RUNNER)
          .toClass(CrashingCamunda)
          .inScope(BindingScope.SINGLETON);
      },
    });
    client = t.client;
    engine = (await t.app.get(
      TaskServiceBindings.CUSTOM_BPMN_RUNNER,
    )) as CrashingCamunda;
    parent = await deploy('parent');
  });
  after(async () => {
    await t?.stop();
    await Promise.all(receivers.map(r => r.stop()));
    for (const id of deployments) {
      await camunda(`/process-definition/${id}?cascade=true`, {
        method: 'DELETE',
      }).catch(() => undefined);
    }
    await db?.drop();
  });

  async function deploy(name: 'parent' | 'child' | 'child-reads') {
    const id = await deployBpmn(client, admin, name, {
      READ_TOPIC: READ_TASK_TOPIC,
    });
    deployments.push(id);
    return id;
  }

  async function tasksWhere(where: object): Promise<Task[]> {
    const res = await client
      .get('/tasks')
      .query({filter: JSON.stringify({where, order: ['name ASC']})})
      .set(admin)
      .expect(200);
    return res.body;
  }

  async function userTasksOf(taskId: string): Promise<UserTask[]> {
    const res = await client
      .get(`/tasks/${taskId}/user-tasks`)
      .query({filter: JSON.stringify({order: ['createdOn ASC']})})
      .set(admin)
      .expect(200);
    return res.body;
  }

  function eventWith(key: string, values: object[], id?: string) {
    return {
      key,
      payload: {tasks: {values}},
      timestamp: Date.now(),
      source: 'test',
      ...(id ? {id} : {}),
    };
  }

  it('a redelivered event whose start was never recorded finds its instance by business key: one instance', async () => {
    const eventKey = `crash-${process.pid}`;
    await client
      .post('/events/mapping')
      .set(admin)
      .send({eventKey, workflowKey: parent})
      .expect(200);
    const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
    const event = eventWith(
      eventKey,
      [{key: `unmapped-${process.pid}`, name: 'Camunda started once'}],
      `source-${process.pid}`,
    );
    engine.crashAfterStartOf.add(parent);
    await expect(processor.handle(event)).to.be.rejectedWith(
      /connection reset after starting/,
    );
    await processor.handle(event);
    const [stored] = await db.query<{id: string}>(
      'SELECT id FROM main.events WHERE key = $1',
      [eventKey],
    );
    const businessKey = eventBusinessKey(stored.id, parent);
    const instances = await camunda<{id: string; businessKey: string}[]>(
      `/history/process-instance?processDefinitionId=${encodeURIComponent(parent)}&processInstanceBusinessKey=${encodeURIComponent(businessKey)}`,
    );
    expect(instances).to.have.length(1);
    expect(
      await db.query(
        'SELECT instance_id FROM main.event_workflow_runs WHERE event_id = $1',
        [stored.id],
      ),
    ).to.eql([{instance_id: instances[0].id}]);
    // Its one create-tasks made one task.
    await eventually(
      async () =>
        (await tasksWhere({name: 'Camunda started once'})).length === 1,
      'the task',
    );
    await new Promise(r => setTimeout(r, 500));
    expect(await tasksWhere({name: 'Camunda started once'})).to.have.length(1);
  });

  it('a task workflow whose first step reads the task records no failed attempt and no incident', async () => {
    const taskKey = `reads-${process.pid}`;
    await mapWorkflows(client, admin, {
      eventKey: `reads-first-${process.pid}`,
      eventWorkflow: parent,
      taskKey,
      taskWorkflow: await deploy('child-reads'),
    });
    const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
    await processor.handle(
      eventWith(`reads-first-${process.pid}`, [
        {key: taskKey, name: 'Reads A'},
        {key: taskKey, name: 'Reads B'},
      ]),
    );
    const tasks = await eventually(async () => {
      const found = await tasksWhere({key: taskKey});
      return found.length === 2 && found.every(x => x.externalId) && found;
    }, 'both tasks with their workflows');
    for (const task of tasks) {
      await eventually(
        async () =>
          (await userTasksOf(task.id!)).map(u => u.name).join() === 'Review',
        `the Review user task of ${task.name}`,
        30000,
      );
      // Read once, never failed: the engine has no incident for it either
      // (the shared engine keeps no external-task log at history level audit).
      expect(ReadTaskCommand.read.filter(id => id === task.id)).to.have.length(
        1,
      );
      expect(
        await camunda<unknown[]>(
          `/incident?processInstanceId=${task.externalId}`,
        ),
      ).to.eql([]);
    }
    expect(
      ReadTaskCommand.failures.filter(f => tasks.some(x => x.id === f.taskId)),
    ).to.eql([]);
  });

  it('webhooks to a receiver that fails for seconds: each task’s events arrive once each, in the order they happened', async () => {
    const eventKey = `ordered-${process.pid}`;
    const taskKey = `ordered-review-${process.pid}`;
    await mapWorkflows(client, admin, {
      eventKey,
      eventWorkflow: parent,
      taskKey,
      taskWorkflow: await deploy('child'),
    });
    const receiver = await new OrderedReceiver().start();
    receivers.push(receiver);
    const app = await client
      .post('/client-apps')
      .set(admin)
      .send({clientName: 'ordered'})
      .expect(200);
    for (const key of [
      EventType.TaskCreated,
      EventType.UserTaskCompleted,
      EventType.TaskCompleted,
    ]) {
      await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set({'x-api-key': app.body.apiKey, 'x-api-secret': app.body.apiSecret})
        .send({url: receiver.url, key})
        .expect(200);
    }
    // The receiver fails for 4 s from the first request it gets, however
    // long the engine takes to create the tasks that lead to it.
    let failUntil: number | undefined;
    receiver.answer = () => {
      failUntil ??= Date.now() + 4000;
      return Date.now() < failUntil ? 503 : 204;
    };

    const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
    await processor.handle(
      eventWith(eventKey, [
        {key: taskKey, name: 'Ordered A'},
        {key: taskKey, name: 'Ordered B'},
        {key: taskKey, name: 'Ordered C'},
      ]),
    );
    const tasks = await eventually(async () => {
      const found = await tasksWhere({key: taskKey});
      return found.length === 3 && found.every(x => x.externalId) && found;
    }, 'three tasks with their workflows');
    for (const round of [0, 1]) {
      for (const task of tasks) {
        const pending = await eventually(
          async () => {
            const list = await userTasksOf(task.id!);
            return list.length === round + 1 && list[round];
          },
          `user task ${round + 1} of ${task.name}`,
        );
        await client
          .patch(`/tasks/${task.id}/user-tasks/${pending.id}/complete`)
          .set(admin)
          .expect(204);
      }
    }
    await eventually(
      async () =>
        (await tasksWhere({key: taskKey})).every(x => x.status === 'completed'),
      'the tasks completed by end-task',
      30000,
    );
    // One task-created, two user-task-completed and one task-completed each.
    await eventually(
      async () => {
        const [row] = await db.query<{n: string}>(
          `SELECT count(*) AS n FROM main.webhook_deliveries
            WHERE url = $1 AND status = 'delivered'`,
          [receiver.url],
        );
        return Number(row.n) === 10;
      },
      'ten deliveries',
      60000,
    );
    // Some were refused and sent again.
    expect(receiver.received.length).to.be.above(10);
    receiver.expectEachAcknowledgedOnce();
    for (const task of tasks) {
      const label = (event: EventBody) => {
        if (!concerns(event, task.id!)) return undefined;
        const userTask = event.payload.userTask as {name?: string} | undefined;
        return userTask ? `${event.key}:${userTask.name}` : event.key;
      };
      expect({[task.name]: receiver.runsOf(label)}).to.eql({
        [task.name]: [
          'task-created✓',
          'user-task-completed:First review✓',
          'user-task-completed:Second review✓',
          'task-completed✓',
        ],
      });
    }
  });
});
