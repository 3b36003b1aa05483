import {
  BindingScope,
  Context,
  injectable,
  instantiateClass,
} from '@loopback/core';
import {Client, expect} from '@loopback/testlab';
import {CreateTaskCommand} from '../../commands';
import {CommandParameters, ICommand} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {eventually, mapWorkflows, TestApp} from '../fixtures/app';
import {camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {withWorkflowApp} from '../fixtures/workflow-app';

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

describe('Failing commands on a real Camunda 7 with PostgreSQL: incidents, rollbacks, retries done once', function () {
  this.timeout(120000);
  const app = withWorkflowApp([AlwaysFailingCommand]);
  const {admin, deploy, tasksWhere, eventFor} = app;
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;

  before(() => {
    ({db, t, client} = app);
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
      // The second task's workflow cannot start: the whole run must roll back.
      await mapWorkflows(client, admin, {
        eventKey,
        eventWorkflow: parent.workflow.externalIdentifier,
        taskKey,
        taskWorkflow: 'missing-process:1:x',
      });
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
      // The tasks commit first, then their workflows start.
      const created = await eventually(async () => {
        const found = await tasksWhere({name: {inq: ['Plain', 'Broken']}});
        const broken = found.find(x => x.name === 'Broken');
        return found.length === 2 && !!broken?.externalId && found;
      }, 'the tasks created by the retry, with the workflow started');
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
        const command = await instantiateClass(CreateTaskCommand, t.app);
        command.parameters = {task: externalTask, taskService};
        await command.execute();
      }
      expect(completions).to.have.length(2);
      expect(await tasksWhere({key: taskKey})).to.have.length(1);
    });
  });
});
