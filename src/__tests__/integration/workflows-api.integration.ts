import {Client, expect} from '@loopback/testlab';
import {CamundaService} from '../../engines/camunda';
import {TaskServiceBindings} from '../../keys';
import {TestApp} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {camunda} from '../fixtures/camunda';
import {CellDatabase, dataCells} from '../fixtures/matrix';
import {bearer, tokenWith} from '../fixtures/tokens';
import {withWorkflowApp} from '../fixtures/workflow-app';

for (const cell of dataCells()) {
  describe(`/workflows on a real Camunda 7 with ${cell.name}: deploy, version, execute, delete`, function () {
    this.timeout(120000);
    const app = withWorkflowApp([], cell);
    const {admin, deployments, deploy} = app;
    let db: CellDatabase;
    let t: TestApp;
    let client: Client;

    before(() => {
      ({db, t, client} = app);
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
        const mine = listed.body.find(
          (w: {id: string}) => w.id === workflow.id,
        );
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
        await client
          .post('/workflows')
          .set(admin)
          .send({name: 'x'})
          .expect(422);
      });

      it('DELETE /workflows/{id} removes the workflow, its versions and its definitions', async () => {
        const {workflow} = await deploy('child');
        await client.del(`/workflows/${workflow.id}`).set(admin).expect(204);
        await client.get(`/workflows/${workflow.id}`).set(admin).expect(404);
        await expect(
          camunda(`/process-definition/${workflow.externalIdentifier}`),
        ).to.be.rejectedWith({status: 404});
        expect(
          await db.rows('workflow_versions', {
            where: {workflow_id: workflow.id},
          }),
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
}
