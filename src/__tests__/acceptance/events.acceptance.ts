import {Client, expect} from '@loopback/testlab';
import {EventRepository} from '../../repositories';
import {TestApp} from '../fixtures/app';
import {dataCells} from '../fixtures/matrix';
import {withTaskApi} from '../fixtures/task-api';
import {bearer, tokenWith} from '../fixtures/tokens';

for (const cell of dataCells()) {
  describe(`Events over HTTP (${cell.name})`, () => {
    const api = withTaskApi(cell);
    let t: TestApp;
    let client: Client;
    const admin = api.admin;

    before(() => {
      ({t, client} = api);
    });

    describe('/events', () => {
      it('lists, filters, counts and reads stored events', async () => {
        const events = await t.app.getRepository(EventRepository);
        const e1 = await events.create({
          key: 'a',
          timestamp: 1000,
          payload: {n: 1},
          source: 's',
        });
        await events.create({
          key: 'b',
          timestamp: 2000,
          payload: {n: 2},
          source: 's',
        });
        const perm = bearer(tokenWith(['16002']));
        const list = await client
          .get('/events')
          .query({filter: JSON.stringify({where: {timestamp: {gt: 1500}}})})
          .set(perm)
          .expect(200);
        expect(list.body).to.containDeep([
          {key: 'b', timestamp: 2000, payload: {n: 2}},
        ]);
        expect(list.body).to.have.length(1);
        const count = await client.get('/events/count').set(perm).expect(200);
        expect(count.body).to.eql({count: 2});
        const one = await client.get(`/events/${e1.id}`).set(perm).expect(200);
        expect(one.body).to.containDeep({key: 'a', payload: {n: 1}});
        await client
          .get('/events')
          .set(bearer(tokenWith(['16003'])))
          .expect(403);
      });

      it('maps an event key to a workflow once', async () => {
        const body = {eventKey: 'order.created', workflowKey: 'order-flow:1:x'};
        const first = await client
          .post('/events/mapping')
          .set(admin)
          .send(body)
          .expect(200);
        const second = await client
          .post('/events/mapping')
          .set(admin)
          .send(body)
          .expect(200);
        expect(second.body.id).to.equal(first.body.id);
        await client
          .post('/events/mapping')
          .set(admin)
          .send({eventKey: 'x'})
          .expect(422);
      });
    });
  });
}
