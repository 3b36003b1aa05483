import {expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {CamundaError, CamundaService} from '../../engines/camunda';
import {CommandSubscription, ICommandRunner} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {DEFAULT_WORKFLOW_ENGINE_URL} from '../../types';
import {givenTestApp, TestApp} from '../fixtures/app';
import {assertCamundaUp} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/** Nothing listens here: a worker polling it would only log failures. */
const NO_ENGINE_URL = 'http://127.0.0.1:9/engine-rest';

/** A command runner that records what it was asked to run. */
class RecordingRunner implements ICommandRunner {
  readonly topics: string[] = [];
  async subscribe(subscriptions: CommandSubscription[]): Promise<void> {
    this.topics.push(...subscriptions.map(s => s.topic));
  }
  async unsubscribe(): Promise<void> {}
}

describe('Testing a host app: command workers can be kept off (PostgreSQL, no engine)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  const apps: TestApp[] = [];

  before(async () => {
    db = await TestDatabase.create(['core']);
  });

  after(async () => {
    for (const t of apps) await t.stop();
    await db?.drop();
  });

  async function appWith(startCommandWorkers?: boolean) {
    const runner = new RecordingRunner();
    const t = await givenTestApp({
      db,
      engineUrl: NO_ENGINE_URL,
      workflowConfig:
        startCommandWorkers === undefined ? {} : {startCommandWorkers},
      commands: [CreateTaskCommand, EndTaskCommand],
      after: app => app.bind(TaskServiceBindings.COMMAND_RUNNER).to(runner),
    });
    apps.push(t);
    return {t, runner};
  }

  it('startCommandWorkers: false starts no worker, and the routes work', async () => {
    const {t, runner} = await appWith(false);
    expect(runner.topics).to.eql([]);
    await t.client
      .get('/tasks')
      .set(bearer(tokenWith(ALL_PERMISSIONS)))
      .expect(200, []);
  });

  it('by default the bound commands are subscribed when the app starts', async () => {
    const {runner} = await appWith();
    expect(runner.topics).to.eql(['create-tasks', 'end-task']);
  });
});

describe('The engine URL is optional: Camunda on its default port (real Camunda)', () => {
  it('talks to http://localhost:8080/engine-rest when workflowEngineBaseUrl is undefined, as process.env.CAMUNDA_URL may be', async () => {
    expect(DEFAULT_WORKFLOW_ENGINE_URL).to.equal(
      'http://localhost:8080/engine-rest',
    );
    await assertCamundaUp(DEFAULT_WORKFLOW_ENGINE_URL);
    const camunda = new CamundaService({
      useCustomSequence: true,
      workflowEngineBaseUrl: process.env.NO_SUCH_VARIABLE,
    });
    const engines = await camunda.request<{name: string}[]>('GET', '/engine');
    expect(engines.map(e => e.name)).to.containEql('default');
    await expect(camunda.get('no-such-definition')).to.be.rejectedWith(
      CamundaError,
    );
  });
});

describe('The engine client sends a form of Node’s own FormData (real Camunda)', () => {
  it('deploys a BPMN posted as a global FormData through `request`', async () => {
    await assertCamundaUp(DEFAULT_WORKFLOW_ENGINE_URL);
    const camunda = new CamundaService({useCustomSequence: true});
    const key = `global_form_${Date.now()}`;
    const form = new FormData();
    form.append('deployment-name', key);
    form.append('tenant-id', key);
    form.append(
      'data',
      new Blob(
        [
          `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${key}" isExecutable="true" camunda:historyTimeToLive="1">
    <bpmn:startEvent id="start" />
  </bpmn:process>
</bpmn:definitions>`,
        ],
        {type: 'application/xml'},
      ),
      `${key}.bpmn`,
    );
    const deployment = await camunda.request<{
      id: string;
      tenantId: string | null;
      deployedProcessDefinitions: Record<string, {key: string}>;
    }>('POST', '/deployment/create', form);
    try {
      expect({
        tenantId: deployment.tenantId,
        keys: Object.values(deployment.deployedProcessDefinitions).map(
          d => d.key,
        ),
      }).to.eql({tenantId: key, keys: [key]});
    } finally {
      await camunda.request(
        'DELETE',
        `/deployment/${deployment.id}?cascade=true`,
      );
    }
  });
});
