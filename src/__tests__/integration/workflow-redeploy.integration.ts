import {expect} from '@loopback/testlab';
import {bpmn} from '../fixtures/bpmn';
import {camunda} from '../fixtures/camunda';
import {withWorkflowApp} from '../fixtures/workflow-app';

describe('Deploying an unchanged definition again (Camunda through the engine port, PostgreSQL)', function () {
  this.timeout(120000);
  const app = withWorkflowApp();

  async function definitionsOf(key: string): Promise<number> {
    const {count} = await camunda<{count: number}>(
      `/process-definition/count?key=${key}&tenantIdIn=${app.db.name}`,
    );
    return count;
  }

  it('refuses the same name and BPMN with 400 and the original message, deploying nothing', async () => {
    const {key, xml} = bpmn('child');
    const first = await app.client
      .post('/workflows')
      .set(app.admin)
      .send({name: 'review', bpmnFile: xml})
      .expect(200);
    app.deployments.push(first.body.externalIdentifier);

    const again = await app.client
      .post('/workflows')
      .set(app.admin)
      .send({name: 'review', bpmnFile: xml, inputSchema: {type: 'object'}})
      .expect(400);
    expect(again.body.error.message).to.equal(
      'Workflow with same name and definition already exists',
    );
    const listed = await app.client
      .get('/workflows')
      .query({filter: JSON.stringify({where: {name: 'review'}})})
      .set(app.admin)
      .expect(200);
    expect(listed.body).to.have.length(1);
    expect(await definitionsOf(key)).to.equal(1);
  });

  it('deploys the same BPMN under another name, and a changed BPMN under the same name', async () => {
    const {key, xml} = bpmn('child');
    for (const [name, file] of [
      ['first', xml],
      ['second', xml],
      ['first', xml.replace('First review', 'Initial review')],
    ]) {
      const res = await app.client
        .post('/workflows')
        .set(app.admin)
        .send({name, bpmnFile: file})
        .expect(200);
      app.deployments.push(res.body.externalIdentifier);
    }
    expect(await definitionsOf(key)).to.equal(3);
  });

  it('compares with the newest version: after a PATCH, the first BPMN is new again', async () => {
    const {xml} = bpmn('child');
    const created = await app.client
      .post('/workflows')
      .set(app.admin)
      .send({name: 'evolving', bpmnFile: xml})
      .expect(200);
    app.deployments.push(created.body.externalIdentifier);
    const patched = await app.client
      .patch(`/workflows/${created.body.id}`)
      .set(app.admin)
      .send({bpmnFile: xml.replace('Second review', 'Final review')})
      .expect(200);
    app.deployments.push(patched.body.externalIdentifier);
    const repeated = await app.client
      .post('/workflows')
      .set(app.admin)
      .send({name: 'evolving', bpmnFile: xml})
      .expect(200);
    app.deployments.push(repeated.body.externalIdentifier);
    expect(repeated.body.id).to.not.equal(created.body.id);
  });
});
