import {BindingScope, Context, injectable} from '@loopback/core';
import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {CamundaService} from '../../engines/camunda';
import {CommandParameters, ICommand, IEvent} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {
  eventually,
  givenTestApp,
  LOCAL_ENGINE_URL,
  TestApp,
} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {RecordingConnector} from '../fixtures/recording-connector';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const FAILING_TOPIC = `always-fails-${process.pid}`;

/** A command whose work always fails, to see the engine get the failure. */
@injectable({scope: BindingScope.TRANSIENT})
class AlwaysFailingCommand implements ICommand {
  topic = FAILING_TOPIC;
  parameters: CommandParameters;
  static runs = 0;
  // As the original constructs commands: with the context, not injected.
  constructor(readonly context: Context) {}
  async execute() {
    if (!(this.context instanceof Context)) {
      throw new Error('the command was not given its context');
    }
    AlwaysFailingCommand.runs++;
    throw new Error('the data source said no');
  }
}

describe('Workflows on a real Camunda 7 with PostgreSQL: event → tasks → user tasks → completed', function () {
  this.timeout(120000);
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  let outgoing: RecordingConnector;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const deployments: string[] = [];

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    outgoing = new RecordingConnector();
    t = await givenTestApp({
      db,
      outgoing,
      commands: [CreateTaskCommand, EndTaskCommand, AlwaysFailingCommand],
    });
    client = t.client;
  });

  after(async () => {
    await t?.stop();
    // Definitions go with their instances, so nothing is left for other runs' workers.
    for (const id of deployments) {
      await camunda(`/process-definition/${id}?cascade=true`, {
        method: 'DELETE',
      }).catch(() => undefined);
    }
    await db?.drop();
  });

  async function deploy(
    name: 'parent' | 'child' | 'failing',
    extra: object = {},
    replacements = {},
  ) {
    const {key, xml} = bpmn(name, replacements);
    const res = await client
      .post('/workflows')
      .set(admin)
      .send({name: `${name}-workflow`, bpmnFile: xml, ...extra})
      .expect(200);
    deployments.push(res.body.externalIdentifier);
    return {key, workflow: res.body};
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

  function eventFor(key: string, values: unknown): IEvent {
    return {
      key,
      payload: {tasks: {values}},
      timestamp: Date.now(),
      source: 'test',
    };
  }

  describe('the whole flow', () => {
    let parent: {key: string; workflow: {externalIdentifier: string}};
    let child: {key: string; workflow: {externalIdentifier: string}};
    const eventKey = `order-received-${process.pid}`;
    const taskKey = `review-${process.pid}`;

    before(async () => {
      parent = await deploy('parent');
      child = await deploy('child');
      await client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey, workflowKey: parent.workflow.externalIdentifier})
        .expect(200);
      await client
        .post('/tasks/mapping')
        .set(admin)
        .send({taskKey, workflowKey: child.workflow.externalIdentifier})
        .expect(200);
    });

    it('the engine itself refuses BPMN without a history time to live', async () => {
      const form = new FormData();
      form.append('deployment-name', 'raw');
      form.append('data', new Blob([bpmn('parent').xml]), 'raw.bpmn');
      const res = await fetch(`${LOCAL_ENGINE_URL}/deployment/create`, {
        method: 'POST',
        body: form,
      });
      expect(res.status).to.be.within(400, 599);
      expect(await res.text()).to.match(/historyTimeToLive|time to live/i);
    });

    it('deploys BPMN drawn without a history time to live (the engine enforces one)', async () => {
      const definition = await camunda<{historyTimeToLive: number}>(
        `/process-definition/${parent.workflow.externalIdentifier}`,
      );
      expect(definition.historyTimeToLive).to.equal(180);
    });

    it('creates the tasks, one child instance each, and lists the first user task once', async () => {
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle(
        eventFor(eventKey, [
          {
            key: taskKey,
            name: 'Review A',
            priority: 'high',
            metadata: {order: 1},
          },
          {key: taskKey, name: 'Review B', description: 'second'},
        ]),
      );
      const stored = await db.query(
        'SELECT key, source, description FROM main.events WHERE key = $1',
        [eventKey],
      );
      expect(stored).to.eql([
        {key: eventKey, source: 'test', description: `Task for ${eventKey}`},
      ]);

      const tasks = await eventually(async () => {
        const found = await tasksWhere({key: taskKey});
        return found.length === 2 && found.every(x => x.externalId) && found;
      }, 'two tasks with their workflow instances');
      expect(tasks.map(x => x.name)).to.eql(['Review A', 'Review B']);
      expect(tasks[0]).to.containDeep({
        priority: 'high',
        metadata: {order: 1},
        status: 'pending',
      });
      expect(tasks[1]).to.containDeep({description: 'second'});

      const instances = await camunda<{id: string}[]>(
        `/process-instance?processDefinitionId=${child.workflow.externalIdentifier}`,
      );
      expect(instances.map(i => i.id).sort()).to.eql(
        tasks.map(x => x.externalId!).sort(),
      );

      for (const task of tasks) {
        const userTasks = await userTasksOf(task.id!);
        expect(userTasks.map(u => [u.name, u.status])).to.eql([
          ['First review', 'pending'],
        ]);
      }
      await eventually(
        () => outgoing.keys().includes('task-created'),
        'task-created published',
      );
      const created = outgoing.published.filter(e => e.key === 'task-created');
      expect(created).to.have.length(1);
      expect(created[0]).to.containDeep({
        source: 'task-service',
        payload: {createdTasks: [{name: 'Review A'}, {name: 'Review B'}]},
      });
      expect(typeof created[0].timestamp).to.equal('number');
    });

    it('completing the user tasks lists the second once, then completes the task', async () => {
      const [task] = await tasksWhere({key: taskKey, name: 'Review A'});
      const [first] = await userTasksOf(task.id!);
      await client
        .patch(`/tasks/${task.id}/user-tasks/${first.id}/complete`)
        .set(admin)
        .expect(204);
      let list = await userTasksOf(task.id!);
      expect(list.map(u => [u.name, u.status])).to.eql([
        ['First review', 'completed'],
        ['Second review', 'pending'],
      ]);
      // Completing it twice is refused, not repeated.
      await client
        .patch(`/tasks/${task.id}/user-tasks/${first.id}/complete`)
        .set(admin)
        .expect(400);

      await client
        .patch(`/tasks/${task.id}/user-tasks/${list[1].id}/complete`)
        .set(admin)
        .expect(204);
      list = await userTasksOf(task.id!);
      expect(list.map(u => u.status)).to.eql(['completed', 'completed']);

      const done = await eventually(async () => {
        const res = await client
          .get(`/tasks/${task.id}`)
          .set(admin)
          .expect(200);
        return res.body.status === 'completed' && res.body;
      }, 'the task completed by end-task');
      expect(done.endDate).to.be.a.String();

      await eventually(
        () =>
          outgoing.published.some(
            e => e.key === 'task-completed' && e.payload.taskId === task.id,
          ),
        'task-completed published',
      );
      const forTask = outgoing.published.filter(
        e =>
          e.key === 'task-created' ||
          (e.key === 'user-task-completed' && e.payload.task.id === task.id) ||
          (e.key === 'task-completed' && e.payload.taskId === task.id),
      );
      expect(forTask.map(e => e.key)).to.eql([
        'task-created',
        'user-task-completed',
        'user-task-completed',
        'task-completed',
      ]);
      expect(forTask[1].payload.userTask).to.containDeep({
        name: 'First review',
        status: 'completed',
      });
      expect(forTask[2].payload.userTask).to.containDeep({
        name: 'Second review',
        status: 'completed',
      });
    });

    it('accepts tasks.values as a JSON string, the original form', async () => {
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle(
        eventFor(eventKey, JSON.stringify([{key: taskKey, name: 'Review C'}])),
      );
      const [task] = await eventually(async () => {
        const found = await tasksWhere({name: 'Review C'});
        return found.length === 1 && !!found[0].externalId && found;
      }, 'task from a JSON string');
      expect((await userTasksOf(task.id!)).map(u => u.name)).to.eql([
        'First review',
      ]);
    });

    it('DELETE /tasks/{id} deletes the task and its process instance in the engine', async () => {
      const [task] = await tasksWhere({name: 'Review B'});
      await camunda(`/process-instance/${task.externalId}`);
      await client.del(`/tasks/${task.id}`).set(admin).expect(204);
      await expect(
        camunda(`/process-instance/${task.externalId}`),
      ).to.be.rejectedWith({status: 404});
      expect(
        await db.query('SELECT 1 FROM main.user_tasks WHERE task_id = $1', [
          task.id,
        ]),
      ).to.have.length(0);
    });

    it('an event with no mapping, or mapped to an unknown workflow, is stored and not an error', async () => {
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle({
        key: 'nobody-listens',
        payload: {a: 1},
        timestamp: 5,
        source: 'x',
      });
      await client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey: 'dangling', workflowKey: 'no-such-process:1:x'})
        .expect(200);
      await processor.handle({
        key: 'dangling',
        payload: {description: 'from payload'},
        timestamp: 6,
        source: 'x',
      });
      const rows = await db.query(
        'SELECT key, description, "timestamp" FROM main.events WHERE key IN ($1, $2) ORDER BY "timestamp"',
        ['nobody-listens', 'dangling'],
      );
      expect(rows).to.eql([
        {
          key: 'nobody-listens',
          description: 'Task for nobody-listens',
          timestamp: '5',
        },
        {key: 'dangling', description: 'from payload', timestamp: '6'},
      ]);
    });
  });

  describe('failures', () => {
    it('a command that throws leaves an incident with its message after the retries, and the app goes on', async () => {
      const {workflow} = await deploy('failing', {}, {TOPIC: FAILING_TOPIC});
      const started = await client
        .post(`/workflows/${workflow.id}/execute`)
        .set(admin)
        .send({input: {}})
        .expect(200);
      const incidents = await eventually(
        async () => {
          const found = await camunda<{incidentMessage: string}[]>(
            `/incident?processInstanceId=${started.body.id}`,
          );
          return found.length > 0 && found;
        },
        'an incident',
        30000,
      );
      expect(incidents[0].incidentMessage).to.equal('the data source said no');
      // The first run and the three retries the config allows.
      expect(AlwaysFailingCommand.runs).to.equal(4);
      await client.get('/tasks/count').set(admin).expect(200);
    });

    it('create-tasks that fails part-way leaves no task behind, and its retry creates them once', async () => {
      const eventKey = `half-${process.pid}`;
      const taskKey = `broken-${process.pid}`;
      const parent = await deploy('parent');
      const child = await deploy('child');
      await client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey, workflowKey: parent.workflow.externalIdentifier})
        .expect(200);
      // The second task's workflow cannot start: the whole run must roll back.
      await client
        .post('/tasks/mapping')
        .set(admin)
        .send({taskKey, workflowKey: 'missing-process:1:x'})
        .expect(200);
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle(
        eventFor(eventKey, [
          {key: `plain-${process.pid}`, name: 'Plain'},
          {key: taskKey, name: 'Broken'},
        ]),
      );
      const instances = await camunda<{id: string}[]>(
        `/process-instance?processDefinitionId=${parent.workflow.externalIdentifier}`,
      );
      expect(instances).to.have.length(1);
      const incidents = await eventually(
        async () => {
          const found = await camunda<
            {incidentMessage: string; configuration: string}[]
          >(`/incident?processInstanceId=${instances[0].id}`);
          return found.length > 0 && found;
        },
        'an incident for create-tasks',
        30000,
      );
      expect(incidents[0].incidentMessage).to.match(/missing-process/);
      expect(await tasksWhere({name: {inq: ['Plain', 'Broken']}})).to.eql([]);

      // Fix the mapping and give the external task one more try.
      await db.query(
        'UPDATE main.task_workflows SET workflow_key = $1 WHERE task_key = $2',
        [child.workflow.externalIdentifier, taskKey],
      );
      await camunda(`/external-task/${incidents[0].configuration}/retries`, {
        method: 'PUT',
        body: JSON.stringify({retries: 1}),
      });
      const created = await eventually(async () => {
        const found = await tasksWhere({name: {inq: ['Plain', 'Broken']}});
        return found.length === 2 && found;
      }, 'the tasks created by the retry');
      await new Promise(r => setTimeout(r, 1000));
      expect(
        await tasksWhere({name: {inq: ['Plain', 'Broken']}}),
      ).to.have.length(2);
      expect(
        created.find(x => x.name === 'Broken')!.externalId,
      ).to.be.a.String();
    });

    it('a repeated run of the same external task (completion lost) does the work once', async () => {
      const taskKey = `ledger-${process.pid}`;
      const completions: string[] = [];
      const externalTask = {
        id: `external-${process.pid}-${Date.now()}`,
        variables: {
          get: (name: string) =>
            name === 'tasks'
              ? {values: [{key: taskKey, name: 'Once'}]}
              : undefined,
          getAll: () => ({}),
        },
      };
      const taskService = {
        complete: async () => {
          completions.push(externalTask.id);
        },
        handleFailure: async () => undefined,
        extendLock: async () => undefined,
      };
      for (let run = 0; run < 2; run++) {
        const command = await t.app
          .get<CreateTaskCommand>('commands.create-tasks-probe')
          .catch(async () => {
            t.app
              .bind('commands.create-tasks-probe')
              .toClass(CreateTaskCommand);
            return t.app.get<CreateTaskCommand>('commands.create-tasks-probe');
          });
        command.parameters = {task: externalTask, taskService};
        await command.execute();
      }
      expect(completions).to.have.length(2);
      expect(await tasksWhere({key: taskKey})).to.have.length(1);
    });
  });

  describe('/workflows', () => {
    it('versions: update makes a new version, the newest cannot be deleted, an older one can', async () => {
      const {workflow} = await deploy('child', {
        inputSchema: {type: 'object'},
        description: 'v1',
      });
      expect(workflow).to.containDeep({
        workflowVersion: 1,
        provider: 'camunda',
        description: 'v1',
      });
      expect(workflow.workflowVersions).to.have.length(1);
      const updated = await client
        .patch(`/workflows/${workflow.id}`)
        .set(admin)
        .send({description: 'v2'})
        .expect(200);
      deployments.push(updated.body.externalIdentifier);
      expect(updated.body).to.containDeep({
        workflowVersion: 2,
        description: 'v2',
      });
      expect(updated.body.externalIdentifier).to.not.equal(
        workflow.externalIdentifier,
      );
      const listed = await client.get('/workflows').set(admin).expect(200);
      const mine = listed.body.find((w: {id: string}) => w.id === workflow.id);
      expect(
        mine.workflowVersions.map((v: {version: number}) => v.version).sort(),
      ).to.eql([1, 2]);

      const refused = await client
        .del(`/workflows/${workflow.id}/version/2`)
        .set(admin)
        .expect(400);
      expect(refused.body.error.message).to.match(/newest version/);
      await client
        .del(`/workflows/${workflow.id}/version/7`)
        .set(admin)
        .expect(404);
      await client
        .del(`/workflows/${workflow.id}/version/1`)
        .set(admin)
        .expect(204);
      await expect(
        camunda(`/process-definition/${workflow.externalIdentifier}`),
      ).to.be.rejectedWith({status: 404});
      const after = await client
        .get(`/workflows/${workflow.id}`)
        .set(admin)
        .expect(200);
      expect(
        after.body.workflowVersions.map((v: {version: number}) => v.version),
      ).to.eql([2]);
    });

    it('execute validates the input against the JSON Schema, listing what is wrong', async () => {
      const {workflow} = await deploy('child', {
        inputSchema: {
          type: 'object',
          required: ['taskId', 'amount'],
          properties: {
            taskId: {type: 'string'},
            amount: {type: 'number', minimum: 0},
          },
        },
      });
      const bad = await client
        .post(`/workflows/${workflow.id}/execute`)
        .set(admin)
        .send({input: {amount: -1}})
        .expect(400);
      expect(bad.body.error.message).to.match(/taskId/);
      expect(bad.body.error.message).to.match(/amount must be >= 0/);
      const good = await client
        .post(`/workflows/${workflow.id}/execute`)
        .set(admin)
        .send({input: {taskId: 'abc', amount: 3}})
        .expect(200);
      expect(good.body.definitionId).to.equal(workflow.externalIdentifier);
      const vars = await camunda<Record<string, {value: unknown}>>(
        `/process-instance/${good.body.id}/variables`,
      );
      expect(vars.taskId.value).to.equal('abc');
      expect(vars.amount.value).to.equal(3);
      await client
        .post(`/workflows/${workflow.id}/execute`)
        .set(admin)
        .send({input: {}, workflowVersion: 9})
        .expect(404);
      await client
        .post(`/workflows/${workflow.id}/execute`)
        .set(bearer(tokenWith(['1'])))
        .send({input: {}})
        .expect(403);
    });

    it('refuses a bad inputSchema and BPMN the engine cannot read, with the reason', async () => {
      const schema = await client
        .post('/workflows')
        .set(admin)
        .send({
          name: 'x',
          bpmnFile: bpmn('child').xml,
          inputSchema: {type: 'no-such-type'},
        })
        .expect(400);
      expect(schema.body.error.message).to.match(/inputSchema/);
      const broken = await client
        .post('/workflows')
        .set(admin)
        .send({name: 'x', bpmnFile: '<not-bpmn/>'})
        .expect(400);
      expect(broken.body.error.message).to.match(/engine refused/);
      await client.post('/workflows').set(admin).send({name: 'x'}).expect(422);
    });

    it('DELETE /workflows/{id} removes the workflow, its versions and its definitions', async () => {
      const {workflow} = await deploy('child');
      await client.del(`/workflows/${workflow.id}`).set(admin).expect(204);
      await client.get(`/workflows/${workflow.id}`).set(admin).expect(404);
      await expect(
        camunda(`/process-definition/${workflow.externalIdentifier}`),
      ).to.be.rejectedWith({status: 404});
      expect(
        await db.query(
          'SELECT 1 FROM main.workflow_versions WHERE workflow_id = $1',
          [workflow.id],
        ),
      ).to.have.length(0);
    });

    it('the CamundaService reports the engine status and message', async () => {
      const engine = (await t.app.get(
        TaskServiceBindings.WORKFLOW_MANAGER,
      )) as CamundaService;
      const err = await engine.getDefinition('nope:1:nope').catch(e => e);
      expect(err.status).to.equal(404);
      expect(err.message).to.match(/nope/);
    });
  });
});
