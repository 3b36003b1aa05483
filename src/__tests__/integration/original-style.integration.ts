import {testHttpConfig} from '../fixtures/http-config';
import {TaskHttpBindings} from '../../connectors/http';
import {Client, createRestAppClient, expect} from '@loopback/testlab';
import {readFileSync} from 'fs';
import path from 'path';
import {TaskAuthBindings} from '../../auth';
import {WorflowManagerAdapter, WorkflowServiceBindings} from '../../compat';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {TaskDbSourceName, WorkflowServiceSourceName} from '../../types';
import {eventually, LOCAL_ENGINE_URL, mapWorkflows} from '../fixtures/app';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {OriginalStyleApplication} from '../fixtures/original-style/application';
import {RecordingConnector} from '../fixtures/recording-connector';
import {
  ALL_PERMISSIONS,
  bearer,
  TEST_JWT_ISSUER,
  TEST_JWT_SECRET,
  tokenWith,
} from '../fixtures/tokens';

// The .bpmn files stay in src (they are not compiled).
const WORKFLOWS = path.resolve(
  __dirname,
  '../../../src/__tests__/fixtures/original-style/workflows',
);
const bpmnOf = (name: string) =>
  readFileSync(path.join(WORKFLOWS, `${name}.bpmn`), 'utf8');

describe('An app written for @sourceloop/task-service 2.0.0, with only its imports changed, on a real Camunda 7 and PostgreSQL', function () {
  this.timeout(120000);
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  let db: TestDatabase;
  let app: OriginalStyleApplication;
  let client: Client;
  let outgoing: RecordingConnector;
  const deployed: Record<string, {id: string; externalIdentifier: string}> = {};

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create(['core', 'http']);
    app = new OriginalStyleApplication({
      rest: {port: 0, host: '127.0.0.1'},
      camundaUrl: LOCAL_ENGINE_URL,
      // The database's own engine tenant: other test runs never take its jobs.
      engineTenantId: db.name,
    });
    for (const name of [TaskDbSourceName, WorkflowServiceSourceName]) {
      app.bind(`datasources.config.${name}`).to(db.dataSourceConfig(name));
    }
    app
      .bind(TaskAuthBindings.JWT_CONFIG)
      .to({secret: TEST_JWT_SECRET, issuer: TEST_JWT_ISSUER});
    // Client secrets are encrypted at rest: the deployment names its key.
    app.bind(TaskHttpBindings.CONFIG).to(testHttpConfig());
    // The test watches what goes out instead of running webhook receivers.
    outgoing = new RecordingConnector();
    app.bind(TaskServiceBindings.OUTGOING_CONNECTOR).to(outgoing);
    await app.boot();
    await app.start();
    client = createRestAppClient(app);
  });

  after(async () => {
    // Its datasources observe the life cycle: stopping disconnects them.
    await app?.stop();
    // Definitions go with their instances, so nothing is left for other runs.
    for (const {externalIdentifier} of Object.values(deployed)) {
      await camunda(`/process-definition/${externalIdentifier}?cascade=true`, {
        method: 'DELETE',
      }).catch(() => undefined);
    }
    await db?.drop();
  });

  async function userTasksOf(taskId: string): Promise<UserTask[]> {
    const res = await client
      .get(`/tasks/${taskId}/user-tasks`)
      .set(admin)
      .expect(200);
    return res.body;
  }

  it('uses the workflow manager bound at WorkflowServiceBindings.WorkflowManager as its engine', async () => {
    expect(await app.get(WorkflowServiceBindings.WorkflowManager)).to.be.ok();
    const engine = await app.get(TaskServiceBindings.WORKFLOW_MANAGER);
    expect(engine).to.be.instanceOf(WorflowManagerAdapter);

    for (const name of ['order-intake', 'line-review']) {
      const res = await client
        .post('/workflows')
        .set(admin)
        .send({name, bpmnFile: bpmnOf(name), inputSchema: {type: 'object'}})
        .expect(200);
      deployed[name] = res.body;
    }
    // Deployed by the provider's `camunda.create`, in this app's tenant.
    const definition = await camunda<{key: string; tenantId: string}>(
      `/process-definition/${deployed['order-intake'].externalIdentifier}`,
    );
    expect(definition).to.containDeep({
      key: 'order_intake',
      tenantId: db.name,
    });
  });

  it('answers a repeated deployment with 400, as the original, and keeps one workflow and one engine version', async () => {
    const again = await client
      .post('/workflows')
      .set(admin)
      .send({name: 'order-intake', bpmnFile: bpmnOf('order-intake')})
      .expect(400);
    expect(again.body.error.message).to.equal(
      'Workflow with same name and definition already exists',
    );
    const listed = await client
      .get('/workflows')
      .query({filter: JSON.stringify({where: {name: 'order-intake'}})})
      .set(admin)
      .expect(200);
    expect(listed.body).to.have.length(1);
    const count = await camunda<{count: number}>(
      `/process-definition/count?key=order_intake&tenantIdIn=${db.name}`,
    );
    expect(count.count).to.equal(1);
  });

  it("sends a PATCH to the provider's updateWorkflow, whose refusal of an unchanged file stands", async () => {
    const {id} = deployed['line-review'];
    const refused = await client
      .patch(`/workflows/${id}`)
      .set(admin)
      .send({bpmnFile: bpmnOf('line-review')})
      .expect(400);
    expect(refused.body.error.message).to.equal('Workflow not changed');
    const res = await client.get(`/workflows/${id}`).set(admin).expect(200);
    expect(res.body.workflowVersion).to.equal(1);
  });

  it('runs event → read-data (a loosely typed command) → create-tasks → review workflow → user task → end-task → completed', async () => {
    await mapWorkflows(client, admin, {
      eventKey: 'order.received',
      eventWorkflow: deployed['order-intake'].externalIdentifier,
      taskKey: 'line-review',
      taskWorkflow: deployed['line-review'].externalIdentifier,
    });
    await client
      .post('/events/trigger')
      .set(admin)
      .send({
        key: 'order.received',
        source: 'shop',
        description: 'Order 42',
        payload: {
          order: {
            reviewKey: 'line-review',
            lines: [{sku: 'A-1'}, {sku: 'B-2'}],
          },
        },
      })
      .expect(204);

    // read-data turned the order into the tasks create-tasks made.
    const tasks = await eventually(
      async () => {
        const res = await client
          .get('/tasks')
          .query({filter: JSON.stringify({order: ['name ASC']})})
          .set(admin)
          .expect(200);
        const found = res.body as Task[];
        return found.length === 2 && found.every(t => t.externalId) && found;
      },
      'two tasks with their review workflows',
      60000,
    );
    expect(tasks.map(t => [t.key, t.name, t.priority])).to.eql([
      ['line-review', 'Review A-1', 'high'],
      ['line-review', 'Review B-2', 'high'],
    ]);
    // Each review workflow was started through the provider's startWorkflow.
    for (const task of tasks) {
      const instance = await camunda<{definitionId: string}>(
        `/process-instance/${task.externalId}`,
      );
      expect(instance.definitionId).to.equal(
        deployed['line-review'].externalIdentifier,
      );
    }

    for (const task of tasks) {
      const [check] = await userTasksOf(task.id!);
      expect(check).to.containDeep({name: 'Check the line', status: 'pending'});
      await client
        .patch(`/tasks/${task.id}/user-tasks/${check.id}/complete`)
        .set(admin)
        .expect(204);
    }
    for (const task of tasks) {
      await eventually(
        async () => {
          const res = await client
            .get(`/tasks/${task.id}`)
            .set(admin)
            .expect(200);
          return res.body.status === 'completed';
        },
        `task ${task.name} completed by end-task`,
        60000,
      );
    }

    await eventually(
      () => outgoing.keys().filter(k => k === 'task-completed').length === 2,
      'both task-completed events published',
    );
    const keys = outgoing.keys();
    expect(keys.filter(k => k === 'task-created')).to.have.length(1);
    expect(keys.filter(k => k === 'user-task-completed')).to.have.length(2);
    const created = outgoing.published.find(e => e.key === 'task-created')!;
    expect(created.payload.createdTasks).to.have.length(2);
    expect(
      outgoing.published
        .filter(e => e.key === 'task-completed')
        .map(e => e.payload.taskId)
        .sort(),
    ).to.eql(tasks.map(t => t.id).sort());
  });

  it("versions a workflow through the provider's updateWorkflow and deletes an old version through its deleteWorkflowVersionById", async () => {
    const {id, externalIdentifier: first} = deployed['line-review'];
    const changed = bpmnOf('line-review').replace(
      'Check the line',
      'Check the line again',
    );
    const updated = await client
      .patch(`/workflows/${id}`)
      .set(admin)
      .send({bpmnFile: changed})
      .expect(200);
    expect(updated.body.workflowVersion).to.equal(2);
    expect(updated.body.externalIdentifier).to.match(/^line_review:2:/);
    deployed['line-review-2'] = updated.body;

    await client.del(`/workflows/${id}/version/1`).set(admin).expect(204);
    await expect(camunda(`/process-definition/${first}`)).to.be.rejectedWith({
      status: 404,
    });
    const after = await client.get(`/workflows/${id}`).set(admin).expect(200);
    expect(
      after.body.workflowVersions.map((v: {version: number}) => v.version),
    ).to.eql([2]);
  });

  it("deletes a workflow through the provider's deleteWorkflowById: the engine no longer has it", async () => {
    const {id, externalIdentifier} = deployed['order-intake'];
    await client.del(`/workflows/${id}`).set(admin).expect(204);
    await expect(
      camunda(`/process-definition/${externalIdentifier}`),
    ).to.be.rejectedWith({status: 404});
    await client.get(`/workflows/${id}`).set(admin).expect(404);
  });
});
