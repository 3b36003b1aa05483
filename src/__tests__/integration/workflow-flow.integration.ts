import {Client, expect} from '@loopback/testlab';
import {TaskServiceBindings} from '../../keys';
import {
  eventually,
  LOCAL_ENGINE_URL,
  mapWorkflows,
  TestApp,
} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {camunda} from '../fixtures/camunda';
import {CellDatabase, dataCells} from '../fixtures/matrix';
import {RecordingConnector} from '../fixtures/recording-connector';
import {withWorkflowApp} from '../fixtures/workflow-app';

for (const cell of dataCells()) {
  describe(`Workflows on a real Camunda 7 with ${cell.name}: event → tasks → user tasks → completed`, function () {
    this.timeout(120000);
    const app = withWorkflowApp([], cell);
    const {admin, deploy, tasksWhere, userTasksOf, eventFor} = app;
    let db: CellDatabase;
    let t: TestApp;
    let client: Client;
    let outgoing: RecordingConnector;

    before(() => {
      ({db, t, client, outgoing} = app);
    });

    describe('the whole flow', () => {
      let parent: {key: string; workflow: {externalIdentifier: string}};
      let child: {key: string; workflow: {externalIdentifier: string}};
      const eventKey = `order-received-${process.pid}`;
      const taskKey = `review-${process.pid}`;

      before(async () => {
        parent = await deploy('parent');
        child = await deploy('child');
        await mapWorkflows(client, admin, {
          eventKey,
          eventWorkflow: parent.workflow.externalIdentifier,
          taskKey,
          taskWorkflow: child.workflow.externalIdentifier,
        });
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
        const stored = await db.rows('events', {
          columns: ['key', 'source', 'description'],
          where: {key: eventKey},
        });
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
        const created = outgoing.published.filter(
          e => e.key === 'task-created',
        );
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
            (e.key === 'user-task-completed' &&
              e.payload.task.id === task.id) ||
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
          eventFor(
            eventKey,
            JSON.stringify([{key: taskKey, name: 'Review C'}]),
          ),
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
          await db.rows('user_tasks', {where: {task_id: task.id}}),
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
        const rows = await db.rows<{timestamp: string | number}>('events', {
          columns: ['key', 'description', 'timestamp'],
          where: {key: ['nobody-listens', 'dangling']},
          orderBy: 'timestamp',
        });
        // A bigint: a string from PostgreSQL's driver, a number from MySQL's.
        expect(rows.map(r => ({...r, timestamp: Number(r.timestamp)}))).to.eql([
          {
            key: 'nobody-listens',
            description: 'Task for nobody-listens',
            timestamp: 5,
          },
          {key: 'dangling', description: 'from payload', timestamp: 6},
        ]);
      });
    });
  });
}
