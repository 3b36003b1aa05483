import {Client, expect} from '@loopback/testlab';
import {dataCells} from '../fixtures/matrix';
import {withTaskApi} from '../fixtures/task-api';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

for (const cell of dataCells()) {
  describe(`Authentication and authorization of the task API (${cell.name})`, () => {
    const api = withTaskApi(cell);
    let client: Client;

    before(() => {
      ({client} = api);
    });

    describe('authentication and authorization', () => {
      it('401 without a token, with a bad one, an expired one, or a wrong issuer', async () => {
        await client.get('/tasks').expect(401);
        await client
          .get('/tasks')
          .set({Authorization: 'Bearer nonsense'})
          .expect(401);
        await client
          .get('/tasks')
          .set({Authorization: 'Basic abc'})
          .expect(401);
        const expired = tokenWith(ALL_PERMISSIONS, {}, {expiresIn: -10});
        const res = await client.get('/tasks').set(bearer(expired)).expect(401);
        expect(res.body.error.message).to.match(/expired/);
        const otherIssuer = tokenWith(
          ALL_PERMISSIONS,
          {},
          {issuer: 'someone-else'},
        );
        await client.get('/tasks').set(bearer(otherIssuer)).expect(401);
      });

      it('403 when the token lacks the permission; numeric key or name both grant it', async () => {
        await client
          .get('/tasks')
          .set(bearer(tokenWith(['16004'])))
          .expect(403);
        await client
          .get('/tasks')
          .set(bearer(tokenWith(['16003'])))
          .expect(200);
        await client
          .get('/tasks')
          .set(bearer(tokenWith(['ViewTask'])))
          .expect(200);
      });

      it('POST /events/mapping admits any valid token', async () => {
        await client
          .post('/events/mapping')
          .set(bearer(tokenWith([])))
          .send({eventKey: 'e', workflowKey: 'w'})
          .expect(200);
        await client
          .post('/events/mapping')
          .send({eventKey: 'e', workflowKey: 'w'})
          .expect(401);
      });

      it('declares the bearer scheme in the OpenAPI document', async () => {
        const res = await client.get('/openapi.json').expect(200);
        expect(res.body.components.securitySchemes.HTTPBearer).to.eql({
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
        });
        expect(res.body.security).to.eql([{HTTPBearer: []}]);
        expect(Object.keys(res.body.paths)).to.containDeep([
          '/tasks',
          '/tasks/{id}',
          '/tasks/count',
          '/tasks/mapping',
          '/tasks/{taskId}/user-tasks',
          '/tasks/{taskId}/user-tasks/{userTaskId}/complete',
          '/events',
          '/events/mapping',
        ]);
      });
    });
  });
}
