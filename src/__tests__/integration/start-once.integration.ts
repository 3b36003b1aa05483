import {instantiateClass} from '@loopback/core';
import {AnyObject, Options} from '@loopback/repository';
import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {StartedInstance, StartOptions} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {
  eventBusinessKey,
  taskBusinessKey,
  UserTaskService,
} from '../../services';
import {eventually, givenTestApp, mapWorkflows, TestApp} from '../fixtures/app';
import {deployBpmn} from '../fixtures/bpmn';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';
import {InProcessEngine} from '../../testing';
import {ReadTaskCommand} from '../fixtures/read-task.command';
import {RecordingConnector} from '../fixtures/recording-connector';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/** Nothing listens here: a call that reached for Camunda would fail. */
const NO_ENGINE_URL = 'http://127.0.0.1:9/engine-rest';

/**
 * An engine whose connection can break right after a start: the instance
 * runs, but its caller never hears of it (as when the service crashes, or
 * the answer is lost, between a start and its recording).
 */
class CrashingEngine extends InProcessEngine {
  /** Starts of these definition ids (prefix) that "crash" once each. */
  crashAfterStartOf = new Set<string>();
  /** The engine cannot be reached for deletes (so nothing can be undone). */
  failDeletes = false;

  override async start(
    definitionId: string,
    input: AnyObject,
    options?: StartOptions,
  ): Promise<StartedInstance> {
    const instance = await super.start(definitionId, input, options);
    for (const prefix of this.crashAfterStartOf) {
      if (definitionId.startsWith(prefix)) {
        this.crashAfterStartOf.delete(prefix);
        throw new Error(`connection reset after starting ${instance.id}`);
      }
    }
    return instance;
  }

  override async deleteInstance(instanceId: string): Promise<void> {
    if (this.failDeletes) throw new Error('engine unreachable');
    return super.deleteInstance(instanceId);
  }

  instancesOf(definitionId: string) {
    return this.allInstances().filter(i => i.definitionId === definitionId);
  }
}

/**
 * Keeps every transaction that records user tasks open a while: the window
 * in which a task's workflow would otherwise find its task uncommitted.
 */
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

for (const cell of dataCells()) {
  describe(`Workflows start once, also across a crash (${cell.name}, in-process engine)`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    let client: Client;
    let engine: CrashingEngine;
    let outgoing: RecordingConnector;
    const admin = bearer(tokenWith(ALL_PERMISSIONS));
    let parent: string;
    let child: string;
    let childReads: string;

    before(async () => {
      db = await givenCellDatabase(cell, ['core']);
      engine = new CrashingEngine();
      outgoing = new RecordingConnector();
      t = await givenTestApp({
        db,
        outgoing,
        engineUrl: NO_ENGINE_URL,
        commands: [CreateTaskCommand, EndTaskCommand, ReadTaskCommand],
        before: app =>
          app
            .bind(TaskServiceBindings.SUB_TASK_SERVICE)
            .toClass(SlowUserTaskService),
        after: app => {
          app.bind(TaskServiceBindings.CUSTOM_BPMN_RUNNER).to(engine);
          app.bind(TaskServiceBindings.COMMAND_RUNNER).to(engine);
        },
      });
      client = t.client;
      parent = await deploy('parent');
      child = await deploy('child');
      childReads = await deploy('child-reads');
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });

    function deploy(name: 'parent' | 'child' | 'child-reads') {
      return deployBpmn(client, admin, name, {
        READ_TOPIC: new ReadTaskCommand(null!).topic,
      });
    }

    async function tasksNamed(name: string): Promise<Task[]> {
      const res = await client
        .get('/tasks')
        .query({filter: JSON.stringify({where: {name}})})
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

    it('an event redelivered after a start that was never recorded finds the instance: one instance', async () => {
      const eventKey = 'crash-on-start';
      await client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey, workflowKey: parent})
        .expect(200);
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      const event = eventWith(
        eventKey,
        [{key: 'no-workflow', name: 'Started once'}],
        'source-1',
      );
      engine.crashAfterStartOf.add(parent);
      await expect(processor.handle(event)).to.be.rejectedWith(
        /connection reset after starting/,
      );
      expect(engine.instancesOf(parent)).to.have.length(1);
      // The redelivery: found by its business key, recorded, not started again.
      await processor.handle(event);
      await processor.handle(event);
      const instances = engine.instancesOf(parent);
      expect(instances).to.have.length(1);
      const [stored] = await db.rows<{id: string}>('events', {
        columns: ['id'],
        where: {key: eventKey},
      });
      expect(instances[0].businessKey).to.equal(
        eventBusinessKey(stored.id, parent),
      );
      expect(
        await db.rows('event_workflow_runs', {
          columns: ['instance_id'],
          where: {event_id: stored.id},
        }),
      ).to.eql([{instance_id: instances[0].id}]);
      await eventually(
        async () => (await tasksNamed('Started once')).length === 1,
        'the task of the one instance',
      );
      await new Promise(r => setTimeout(r, 200));
      expect(await tasksNamed('Started once')).to.have.length(1);
    });

    it('a task workflow whose first step reads the task never fails: it starts after the task commits', async () => {
      const failuresBefore = engine.failedAttempts.length;
      await mapWorkflows(client, admin, {
        eventKey: 'reads-first',
        eventWorkflow: parent,
        taskKey: 'read-me',
        taskWorkflow: childReads,
      });
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      await processor.handle(
        eventWith('reads-first', [
          {key: 'read-me', name: 'Read first A'},
          {key: 'read-me', name: 'Read first B'},
        ]),
      );
      const tasks = await eventually(async () => {
        const found = [
          ...(await tasksNamed('Read first A')),
          ...(await tasksNamed('Read first B')),
        ];
        return found.length === 2 && found.every(x => x.externalId) && found;
      }, 'both tasks with their workflows');
      for (const task of tasks) {
        // The read step ran, then the user task after it was recorded.
        await eventually(async () => {
          const res = await client
            .get(`/tasks/${task.id}/user-tasks`)
            .set(admin)
            .expect(200);
          return res.body.length === 1 && res.body[0].name === 'Review';
        }, `the Review user task of ${task.name}`);
        expect(ReadTaskCommand.read).to.containEql(task.id);
        expect(engine.instance(task.externalId!)?.variables).to.containDeep({
          taskId: task.id,
        });
      }
      expect(engine.failedAttempts.slice(failuresBefore)).to.eql([]);
      expect(
        ReadTaskCommand.failures.filter(f =>
          tasks.some(x => x.id === f.taskId),
        ),
      ).to.eql([]);
      expect(engine.incidents).to.eql([]);
      // task-created went out before anything else about these tasks.
      await eventually(
        () => outgoing.keys().includes('task-created'),
        'task-created',
      );
    });

    describe('create-tasks crashes between starting a task workflow and recording it', () => {
      let n = 0;
      /** A create-tasks work item as the engine hands it, run by hand. */
      function workItem(taskName: string) {
        const completions: string[] = [];
        const externalTask = {
          id: `work-item-${++n}`,
          variables: {
            get: (name: string) =>
              name === 'tasks'
                ? {values: [{key: 'crash-child', name: taskName}]}
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
        return {
          externalTask,
          completions,
          async run() {
            const command = await instantiateClass(CreateTaskCommand, t.app);
            command.parameters = {task: externalTask, taskService};
            return command.execute();
          },
        };
      }

      before(async () => {
        await client
          .post('/tasks/mapping')
          .set(admin)
          .send({taskKey: 'crash-child', workflowKey: child})
          .expect(200);
      });
      afterEach(() => {
        engine.failDeletes = false;
        engine.crashAfterStartOf.clear();
      });

      function liveChildrenOf(taskId: string) {
        return engine
          .instancesOf(child)
          .filter(
            i =>
              i.businessKey === taskBusinessKey(taskId) &&
              !engine.instance(i.id)?.ended,
          );
      }

      it('nothing could be undone: the retry finds the started instance by business key and records it', async () => {
        const item = workItem('Crash, resume');
        engine.crashAfterStartOf.add(child);
        engine.failDeletes = true;
        await expect(item.run()).to.be.rejectedWith(/connection reset/);
        // The tasks committed; their workflow started; nothing recorded it.
        const [task] = await tasksNamed('Crash, resume');
        expect(task.externalId ?? undefined).to.be.undefined();
        expect(liveChildrenOf(task.id!)).to.have.length(1);
        expect(item.completions).to.eql([]);

        engine.failDeletes = false;
        await item.run();
        expect(item.completions).to.eql([item.externalTask.id]);
        const tasks = await tasksNamed('Crash, resume');
        expect(tasks).to.have.length(1);
        const live = liveChildrenOf(task.id!);
        expect(live).to.have.length(1);
        expect(
          engine
            .instancesOf(child)
            .filter(i => i.businessKey === taskBusinessKey(task.id!)),
        ).to.have.length(1);
        expect(tasks[0].externalId).to.equal(live[0].id);
        const announced = (
          await db.rows<{event: unknown}>('outbox_events', {
            columns: ['event'],
            where: {key: 'task-created'},
          })
        ).filter(r => JSON.stringify(r.event).includes(task.id!));
        expect(announced).to.have.length(1);
        expect(
          await db.rows('task_starts', {
            where: {external_task_id: item.externalTask.id},
          }),
        ).to.eql([]);
        // Once more (its completion lost): nothing new.
        await item.run();
        expect(await tasksNamed('Crash, resume')).to.have.length(1);
        expect(liveChildrenOf(task.id!)).to.have.length(1);
      });

      it('a failed start is undone: its instance and tasks go, and the retry creates them once', async () => {
        const item = workItem('Crash, undo');
        const before = new Set(engine.instancesOf(child).map(i => i.id));
        engine.crashAfterStartOf.add(child);
        await expect(item.run()).to.be.rejectedWith(/connection reset/);
        expect(await tasksNamed('Crash, undo')).to.eql([]);
        // The instance its caller never heard of was found and deleted.
        const startedByTheRun = engine
          .instancesOf(child)
          .filter(i => !before.has(i.id));
        expect(startedByTheRun).to.have.length(1);
        expect(engine.instance(startedByTheRun[0].id)?.ended).to.be.true();
        expect(
          await db.rows('command_runs', {
            where: {external_task_id: item.externalTask.id},
          }),
        ).to.eql([]);

        await item.run();
        const tasks = await tasksNamed('Crash, undo');
        expect(tasks).to.have.length(1);
        expect(liveChildrenOf(tasks[0].id!)).to.have.length(1);
        expect(tasks[0].externalId).to.equal(
          liveChildrenOf(tasks[0].id!)[0].id,
        );
        expect(item.completions).to.eql([item.externalTask.id]);
      });
    });
  });
}
