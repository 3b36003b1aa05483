import {expect} from '@loopback/testlab';
import {CreateTaskCommand, EndTaskCommand} from '../../commands';
import {CamundaService} from '../../engines/camunda';
import {UnknownWorkflowError} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {Task, UserTask} from '../../models';
import {
  eventually,
  givenTestApp,
  LOCAL_ENGINE_URL,
  TestApp,
} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {
  assertCamundaUp,
  camunda,
  deleteTenantDefinitions,
} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const EVENTS_PER_DEPLOYMENT = 15;

/**
 * Two deployments of the service (two databases, two tenants) on one engine,
 * with the same process keys, event keys and task keys, and events flowing
 * into both at once: each creates and completes only its own tasks.
 */
describe('Two deployments on one Camunda engine (PostgreSQL, Camunda)', function () {
  this.timeout(180000);
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const parent = bpmn('parent');
  const child = bpmn('child');
  const eventKey = `shared-event-${process.pid}`;
  const taskKey = `shared-task-${process.pid}`;
  const deployments: {name: string; db: TestDatabase; t: TestApp}[] = [];

  before(async () => {
    await assertCamundaUp();
    for (const name of ['blue', 'green']) {
      const db = await TestDatabase.create();
      const t = await givenTestApp({
        db,
        commands: [CreateTaskCommand, EndTaskCommand],
      });
      deployments.push({name, db, t});
    }
  });

  after(async () => {
    for (const {t} of deployments) await t.stop();
    for (const {db} of deployments) {
      // Each tenant's definitions go with their instances.
      await deleteTenantDefinitions(db.name);
      await db.drop();
    }
  });

  async function tasksOf(t: TestApp): Promise<Task[]> {
    const res = await t.client
      .get('/tasks')
      .query({filter: JSON.stringify({where: {key: taskKey}})})
      .set(admin)
      .expect(200);
    return res.body;
  }

  it('deploys the same BPMN into each tenant and maps it', async () => {
    for (const {db, t} of deployments) {
      const ids: string[] = [];
      for (const [name, xml] of [
        ['parent', parent.xml],
        ['child', child.xml],
      ]) {
        const res = await t.client
          .post('/workflows')
          .set(admin)
          .send({name, bpmnFile: xml})
          .expect(200);
        const definition = await camunda<{tenantId: string}>(
          `/process-definition/${res.body.externalIdentifier}`,
        );
        expect(definition.tenantId).to.equal(db.name);
        ids.push(res.body.externalIdentifier);
      }
      await t.client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey, workflowKey: ids[0]})
        .expect(200);
      // By key: started in this deployment's tenant, although both have it.
      await t.client
        .post('/tasks/mapping')
        .set(admin)
        .send({taskKey, workflowKey: child.key})
        .expect(200);
    }
  });

  it('events into both at once: every task lands in its own database, then completes there', async () => {
    await Promise.all(
      deployments.flatMap(({name, t}) =>
        Array.from({length: EVENTS_PER_DEPLOYMENT}, async (_, i) => {
          const processor = await t.app.get(
            TaskServiceBindings.EVENT_PROCESSOR,
          );
          await processor.handle({
            key: eventKey,
            timestamp: Date.now(),
            source: 'test',
            payload: {
              tasks: {values: [{key: taskKey, name: `${name}-${i}`}]},
            },
          });
        }),
      ),
    );

    for (const {name, t} of deployments) {
      const tasks = await eventually(async () => {
        const found = await tasksOf(t);
        return (
          found.length >= EVENTS_PER_DEPLOYMENT &&
          found.every(x => x.externalId) &&
          found
        );
      }, `${EVENTS_PER_DEPLOYMENT} tasks of ${name} with their instances`);
      expect(tasks.map(x => x.name).sort()).to.eql(
        Array.from(
          {length: EVENTS_PER_DEPLOYMENT},
          (_, i) => `${name}-${i}`,
        ).sort(),
      );
    }

    // Both deployments' people work through every user task at once.
    await Promise.all(
      deployments.map(async ({t}) => {
        for (const task of await tasksOf(t)) {
          for (let step = 0; step < 2; step++) {
            const pending = await eventually(async () => {
              const res = await t.client
                .get(`/tasks/${task.id}/user-tasks`)
                .query({filter: JSON.stringify({where: {status: 'pending'}})})
                .set(admin)
                .expect(200);
              return (res.body as UserTask[])[0];
            }, `a pending user task of ${task.name}`);
            await t.client
              .patch(`/tasks/${task.id}/user-tasks/${pending.id}/complete`)
              .set(admin)
              .expect(204);
          }
        }
      }),
    );
    for (const {name, t} of deployments) {
      await eventually(
        async () =>
          (await tasksOf(t)).every(x => x.status === 'completed') || undefined,
        `every task of ${name} completed`,
        30000,
      );
    }

    for (const {db} of deployments) {
      // end-task completes its external task just after its row commits.
      await eventually(
        async () =>
          (
            await camunda<{count: number}>(
              `/external-task/count?tenantIdIn=${db.name}`,
            )
          ).count === 0,
        `every external task of ${db.name} completed`,
      );
      const incidents = await camunda<unknown[]>(
        `/incident?tenantIdIn=${db.name}`,
      );
      expect(incidents).to.eql([]);
    }
  });

  it('a definition of another tenant is not started, even by its id', async () => {
    const [blue, green] = deployments;
    const greenDefinitions = await camunda<{id: string}[]>(
      `/process-definition?tenantIdIn=${green.db.name}&key=${child.key}`,
    );
    const blueEngine = new CamundaService({
      workflowEngineBaseUrl: LOCAL_ENGINE_URL,
      engineTenantId: blue.db.name,
    });
    await expect(
      blueEngine.start(greenDefinitions[0].id, {taskId: 'x'}),
    ).to.be.rejectedWith(UnknownWorkflowError);
    const {count} = await camunda<{count: number}>(
      `/process-instance/count?processDefinitionId=${greenDefinitions[0].id}`,
    );
    expect(count).to.equal(0);
  });
});
