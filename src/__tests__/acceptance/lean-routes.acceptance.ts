import {gzipSync} from 'zlib';
import {
  globalInterceptor,
  Interceptor,
  InvocationContext,
  Next,
  Provider,
} from '@loopback/core';
import {
  MiddlewareSequence,
  RequestBodyParser,
  RegExpRouter,
  RestBindings,
} from '@loopback/rest';
import {Client, createClientForHandler, expect, sinon} from '@loopback/testlab';
import express from 'express';
import {TaskHttpBindings, TaskHttpComponent} from '../../connectors/http';
import {testHttpConfig} from '../fixtures/http-config';
import {EventTriggerController} from '../../connectors/http/controllers';
import {EventController, TaskController} from '../../controllers';
import {TaskServiceBindings} from '../../keys';
import {
  EventRepository,
  TaskRepository,
  UserTaskRepository,
} from '../../repositories';
import {TaskTrieRouter} from '../../rest';
import {TaskSecurityBindings} from '../../security';
import {givenTestApp, TestApp, TestTaskApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const admin = bearer(tokenWith(ALL_PERMISSIONS));
const viewer = bearer(tokenWith(['ViewTask']));

/** Counts the calls it sees: a host's global interceptor. */
@globalInterceptor('host')
class CountingInterceptor implements Provider<Interceptor> {
  static calls = 0;
  value(): Interceptor {
    return (_ctx: InvocationContext, next: Next) => {
      CountingInterceptor.calls++;
      return next();
    };
  }
}

function givenApp(
  db: CellDatabase,
  options: {lean: boolean; host?: (app: TestTaskApp) => void},
): Promise<TestApp> {
  return givenTestApp({
    db,
    before: app => {
      app.bind(TaskServiceBindings.CONFIG).to({
        useCustomSequence: false,
        useSequelize: db.cell.orm === 'sequelize',
        leanRoutes: options.lean,
      });
      // Low enough to reach in a test; high enough for the rest of it.
      app.bind(TaskSecurityBindings.CONFIG).to({
        rateLimits: {trigger: {points: 30, durationSeconds: 60}},
      });
    },
    after: app => {
      app.component(TaskHttpComponent);
      app.bind(TaskHttpBindings.CONFIG).to(testHttpConfig());
      options.host?.(app);
    },
  });
}

/** What a client sees of an answer: status, body and the headers that vary by route. */
async function answer(
  request: Promise<{
    status: number;
    body: unknown;
    headers: Record<string, string>;
  }>,
) {
  const res = await request;
  // Every header but those that differ from one answer to the next.
  const headers = {...res.headers};
  for (const name of VOLATILE_HEADERS) delete headers[name];
  return {status: res.status, body: res.body, headers};
}

const VOLATILE_HEADERS = ['date', 'x-request-id', 'connection', 'keep-alive'];

/**
 * The same requests, answered by an app on the lean path and one without
 * it: every status, body and header a client reads is the same.
 */
function exchanges(client: Client, taskId: string) {
  const q = (filter: object) => encodeURIComponent(JSON.stringify(filter));
  return [
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'lean-a', payload: {n: 1}}),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('Idempotency-Key', 'same')
        .send({key: 'lean-b'}),
    () => client.post('/events/trigger').set(admin).send({key: ''}),
    () => client.post('/events/trigger').set(admin).send({key: 'x', extra: 1}),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'application/json')
        .send('{"key": '),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'x', payload: {a: 'nul\u0000'}}),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('origin', 'https://app.example')
        .send({key: 'lean-cors'}),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('x-request-id', 'given-id')
        .send({key: 'x', description: 'd'.repeat(70000)}),
    // Bodies the lean path reads itself, and those it hands to LoopBack's
    // parser (read already, or untouched).
    ...[
      '{"key":"lean-json","payload":{"n":[1,2,{"m":null}]}}',
      '\uFEFF{"key":"lean-bom"}',
      '{"key":"x","__proto__":{"polluted":true}}',
      '{"key":"x","payload":{"constructor":{"prototype":{"polluted":true}}}}',
      '{"key":"x",}',
      '  ',
      '"a string"',
      'null',
      '',
    ].map(
      body => () =>
        client
          .post('/events/trigger')
          .set(admin)
          .set('content-type', 'application/json')
          .send(body),
    ),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'application/json; charset=utf-8')
        .send('{"key":"lean-charset"}'),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'application/json; charset=iso-8859-1')
        .send(
          Buffer.from(
            '{"key":"lean-latin1","description":"caf\xe9"}',
            'latin1',
          ),
        ),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'application/json')
        .send(
          Buffer.from([
            ...Buffer.from('{"key":"lean-'),
            0xff,
            0xfe,
            ...Buffer.from('"}'),
          ]),
        ),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'application/json')
        .set('content-encoding', 'gzip')
        .send(gzipSync(Buffer.from('{"key":"lean-gzip"}'))),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'application/json')
        .send(JSON.stringify({key: 'x', description: 'd'.repeat(1100000)})),
    () =>
      client.post('/tasks/constructor/user-tasks').set(admin).send({key: 'x'}),
    () => client.get('/tasks/constructor/user-tasks').set(admin),
    () => client.get('/tasks/%63onstructor/user-tasks').set(admin),
    () => client.get('/tasks/__proto__/user-tasks').set(admin),
    () => client.get('/tasks/toString/user-tasks').set(admin),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('Idempotency-Key', 'k'.repeat(501))
        .send({key: 'x'}),
    () =>
      client
        .post('/events/trigger')
        .set(admin)
        .set('content-type', 'text/plain')
        .send('key=x'),
    () => client.post('/events/trigger?x=1').set(admin).send({key: 'x'}),
    () => client.post('/events/trigger').set(viewer).send({key: 'x'}),
    () =>
      client
        .post('/events/trigger')
        .set(bearer('not-a-token'))
        .send({key: 'x'}),
    () => client.post('/events/trigger').send({key: 'x'}),
    () =>
      client
        .get(
          `/tasks?filter=${q({where: {key: 'lean', status: 'pending'}, order: ['name ASC'], fields: {id: false}})}`,
        )
        .set(admin),
    () => client.get(`/tasks?filter=${q({where: {keyy: 'lean'}})}`).set(admin),
    () =>
      client
        .get(`/tasks?filter=${q({where: {key: {regexp: '(a+)+$'}}})}`)
        .set(admin),
    () => client.get('/tasks?wher=x').set(admin),
    () => client.get('/tasks').set(bearer(tokenWith(['ViewEvent']))),
    () =>
      client
        .get(`/events?filter=${q({where: {key: 'lean-seeded'}})}`)
        .set(admin),
    () =>
      client
        .get(
          `/events?filter=${q({where: {key: 'lean-seeded'}, order: ['timestamp ASC'], limit: 2})}`,
        )
        .set(admin),
    () =>
      client
        .get(`/events?filter=${q({where: {timestamp: 'soon'}})}`)
        .set(admin),
    () =>
      client
        .get(
          `/tasks/${taskId}/user-tasks?filter=${q({order: ['name ASC'], fields: {id: false, createdOn: false, modifiedOn: false}})}`,
        )
        .set(admin),
    () => client.get('/tasks/not-a-uuid/user-tasks').set(admin),
    () =>
      client
        .get('/tasks/00000000-0000-4000-8000-000000000000/user-tasks')
        .set(admin),
  ];
}

for (const cell of dataCells()) {
  describe(`Lean routes (${cell.name})`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let lean: TestApp;
    let full: TestApp;
    let taskId: string;

    before(async () => {
      db = await givenCellDatabase(cell);
      lean = await givenApp(db, {lean: true});
      full = await givenApp(db, {lean: false});
      const tasks = await lean.app.getRepository(TaskRepository);
      const userTasks = await lean.app.getRepository(UserTaskRepository);
      for (const name of ['Read', 'Approve']) {
        const task = await tasks.create({key: 'lean', name});
        taskId = task.id!;
        await userTasks.create({
          taskId,
          name: `${name} it`,
          externalId: `ut-${name}`,
        });
        await userTasks.create({
          taskId,
          name: `Check ${name}`,
          externalId: `ut2-${name}`,
        });
      }
      const events = await lean.app.getRepository(EventRepository);
      for (let i = 0; i < 3; i++) {
        await events.create({
          key: 'lean-seeded',
          source: 'test',
          payload: {i},
          timestamp: 1767225600000 + i,
        });
      }
    });
    after(async () => {
      await lean?.stop();
      await full?.stop();
      await db?.drop();
    });

    it('answers every request as the route pipeline does', async () => {
      const ours = [];
      for (const call of exchanges(lean.client, taskId))
        ours.push(await answer(call()));
      const theirs = [];
      for (const call of exchanges(full.client, taskId))
        theirs.push(await answer(call()));
      expect(ours).to.eql(theirs);
      // What was compared holds answers of every kind.
      expect([...new Set(ours.map(a => a.status))].sort()).to.eql([
        200, 204, 400, 401, 403, 404, 413, 415, 422,
      ]);
    });

    it('answers the lean routes at the front door once planned: the sequence sees only the first of each', async () => {
      const handled = sinon.spy(MiddlewareSequence.prototype, 'handle');
      const requests = async (app: TestApp) => {
        for (let i = 0; i < 3; i++) {
          await app.client
            .post('/events/trigger')
            .set(admin)
            .send({key: 'lean-door'})
            .expect(204);
          await app.client.get('/tasks').set(admin).expect(200);
          await app.client
            .get(`/tasks/${taskId}/user-tasks`)
            .set(admin)
            .expect(200);
          // Not a lean route: always the sequence.
          await app.client.get('/workflows').set(admin).expect(200);
          // A lean route's path without a token: the sequence answers 401.
          await app.client.get('/tasks').expect(401);
        }
      };
      const fresh = await givenApp(db, {lean: true});
      const closed = await givenApp(db, {
        lean: true,
        host: app =>
          app.middleware((_ctx, next) => next(), {key: 'middleware.host'}),
      });
      try {
        handled.resetHistory();
        await requests(fresh);
        // The first of each lean route plans it; then 3 × (workflows + 401).
        expect(handled.callCount).to.equal(3 + 6);
        handled.resetHistory();
        await requests(closed);
        expect(handled.callCount).to.equal(15);
        const events = await fresh.app.getRepository(EventRepository);
        expect(await events.count({key: 'lean-door', source: 'http'})).to.eql({
          count: 6,
        });
      } finally {
        handled.restore();
        await fresh.stop();
        await closed.stop();
      }
    });

    it('reads a plain JSON body itself; any other goes to LoopBack’s parser, which answers it', async () => {
      const loaded = sinon.spy(
        RequestBodyParser.prototype,
        'loadRequestBodyIfNeeded',
      );
      const trigger = () =>
        lean.client
          .post('/events/trigger')
          .set(admin)
          .set('content-type', 'application/json');
      try {
        // Planned by a first request (the pipeline), then at the front door.
        await trigger().send('{"key":"lean-reader"}').expect(204);
        loaded.resetHistory();
        await trigger().send('{"key":"lean-reader"}').expect(204);
        await trigger()
          .set('content-type', 'application/json; charset=utf-8')
          .send('{"key":"lean-reader"}')
          .expect(204);
        expect(loaded.callCount).to.equal(0);
        // Read, then handed over as read: LoopBack's answer.
        await trigger().send('\uFEFF{"key":"lean-reader"}').expect(204);
        const refused = await trigger()
          .send('{"key":"x","__proto__":{}}')
          .expect(400);
        expect(refused.body.error.message).to.match(/__proto__/);
        // Not read here at all.
        await trigger()
          .set('content-type', 'application/json; charset=iso-8859-1')
          .send(Buffer.from('{"key":"lean-reader"}', 'latin1'))
          .expect(415);
        expect(loaded.callCount).to.equal(3);
        const events = await lean.app.getRepository(EventRepository);
        expect(await events.count({key: 'lean-reader'})).to.eql({count: 4});
      } finally {
        loaded.restore();
      }
    });

    it('stores what it is sent, once per Idempotency-Key', async () => {
      const res = await lean.client
        .get(
          `/events?filter=${encodeURIComponent(JSON.stringify({where: {key: 'lean-b'}}))}`,
        )
        .set(admin)
        .expect(200);
      // One from each app, the same key: stored once.
      expect(res.body).to.have.length(1);
      expect(res.body[0]).to.containDeep({key: 'lean-b', source: 'http'});
    });

    it('serves the hot routes with one controller instance; the pipeline makes one per request', async () => {
      const seen = (app: TestApp) => {
        const spies = [
          sinon.spy(EventTriggerController.prototype, 'trigger'),
          sinon.spy(TaskController.prototype, 'find'),
          sinon.spy(EventController.prototype, 'find'),
        ];
        return {
          async run() {
            for (let i = 0; i < 2; i++) {
              await app.client
                .post('/events/trigger')
                .set(admin)
                .send({key: 'lean-c'})
                .expect(204);
              await app.client.get('/tasks').set(admin).expect(200);
              await app.client.get('/events').set(admin).expect(200);
            }
            const instances = spies.map(s => new Set(s.thisValues).size);
            const calls = spies.map(s => s.callCount);
            for (const s of spies) s.restore();
            return {instances, calls};
          },
        };
      };
      expect(await seen(lean).run()).to.eql({
        instances: [1, 1, 1],
        calls: [2, 2, 2],
      });
      expect(await seen(full).run()).to.eql({
        instances: [2, 2, 2],
        calls: [2, 2, 2],
      });
    });

    it('routes a request to any other route once', async () => {
      const handler = await lean.app.restServer.get(RestBindings.HANDLER);
      const lookups = sinon.spy(handler, 'findRoute');
      const lookupsOf = async (send: () => Promise<unknown>) => {
        lookups.resetHistory();
        await send();
        return lookups.callCount;
      };
      try {
        expect({
          workflows: await lookupsOf(() =>
            lean.client.get('/workflows').set(admin).expect(200),
          ),
          taskById: await lookupsOf(() =>
            lean.client.get(`/tasks/${taskId}`).set(admin).expect(200),
          ),
          unknown: await lookupsOf(() =>
            lean.client.get('/no-such-route').set(admin).expect(404),
          ),
          userTasks: await lookupsOf(() =>
            lean.client
              .get(`/tasks/${taskId}/user-tasks`)
              .set(admin)
              .expect(200),
          ),
          tasks: await lookupsOf(() =>
            lean.client.get('/tasks').set(admin).expect(200),
          ),
        }).to.eql({
          workflows: 1,
          taskById: 1,
          unknown: 1,
          userTasks: 1,
          tasks: 1,
        });
      } finally {
        lookups.restore();
      }
    });

    it('counts a user over the trigger limit as the pipeline does: 429 with Retry-After', async () => {
      const user = bearer(tokenWith(ALL_PERMISSIONS, {id: 'lean-burst'}));
      let status = 204;
      let sent = 0;
      while (status === 204 && sent < 40) {
        status = (
          await lean.client
            .post('/events/trigger')
            .set(user)
            .send({key: 'lean-burst'})
        ).status;
        sent++;
      }
      expect({status, sent}).to.eql({status: 429, sent: 31});
    });

    it('answers an app mounted in an outer Express app through the pipeline, under the mount path', async () => {
      const outer = express();
      outer.use('/api', lean.app.requestHandler);
      const client = createClientForHandler(outer);
      // Planned at the front door first, so only the mount can close it.
      const direct = await lean.client.get('/tasks').set(admin).expect(200);
      const handled = sinon.spy(MiddlewareSequence.prototype, 'handle');
      try {
        const mounted = await client.get('/api/tasks').set(admin).expect(200);
        expect(mounted.body).to.eql(direct.body);
        await client
          .post('/api/events/trigger')
          .set(admin)
          .send({key: 'lean-mounted'})
          .expect(204);
        await client.get('/api/tasks').expect(401);
        expect(handled.callCount).to.equal(3);
      } finally {
        handled.restore();
      }
      const events = await lean.app.getRepository(EventRepository);
      expect(await events.count({key: 'lean-mounted'})).to.eql({count: 1});
    });

    it('routes with the service’s trie router unless the host binds a router of its own', async () => {
      const routerOf = (app: TestApp) =>
        app.app.restServer.get(RestBindings.ROUTER);
      expect(await routerOf(lean)).to.be.instanceOf(TaskTrieRouter);
      const host = await givenApp(db, {
        lean: true,
        host: app => app.bind(RestBindings.ROUTER).toClass(RegExpRouter),
      });
      try {
        expect(await routerOf(host)).to.be.instanceOf(RegExpRouter);
        const res = await host.client
          .get(`/tasks/${taskId}/user-tasks`)
          .set(admin)
          .expect(200);
        expect(res.body).to.have.length(2);
      } finally {
        await host.stop();
      }
    });

    it('steps aside for a host that adds a global interceptor: it sees every call', async () => {
      const host = await givenApp(db, {
        lean: true,
        host: app => app.interceptor(CountingInterceptor),
      });
      try {
        CountingInterceptor.calls = 0;
        await host.client.get('/tasks').set(admin).expect(200);
        await host.client
          .post('/events/trigger')
          .set(admin)
          .send({key: 'lean-d'})
          .expect(204);
        expect(CountingInterceptor.calls).to.equal(2);
      } finally {
        await host.stop();
      }
    });
  });
}
