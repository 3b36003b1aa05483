import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {get, Request, RestBindings} from '@loopback/rest';
import {Client, expect} from '@loopback/testlab';
import {TaskHttpBindings, TaskHttpComponent} from '../../connectors/http';
import {
  SecretCipher,
  TaskSecurityBindings,
  TaskSecurityConfig,
} from '../../security';
import {eventually, givenTestApp, TestApp, TestTaskApp} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {TEST_SECRET_KEY, testHttpConfig} from '../fixtures/http-config';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';
import {verifySignature, WebhookReceiver} from '../fixtures/webhook-receiver';
import {TaskHttpConfig} from '../../connectors/http';
import {TaskDbSourceName, WorkflowServiceSourceName} from '../../types';

const admin = bearer(tokenWith(ALL_PERMISSIONS));

/** A route of the host app itself, as `lb4 app` generates `GET /ping`. */
class HostPingController {
  constructor(@inject(RestBindings.Http.REQUEST) private request: Request) {}

  @get('/host-ping', {responses: {'200': {description: 'the query it got'}}})
  ping(): object {
    return {query: this.request.query};
  }
}

function givenApp(
  db: TestDatabase,
  http: TaskHttpConfig = testHttpConfig(),
  security?: TaskSecurityConfig,
): Promise<TestApp> {
  return givenTestApp({
    db,
    before: app => {
      if (security) app.bind(TaskSecurityBindings.CONFIG).to(security);
    },
    after: app => {
      app.component(TaskHttpComponent);
      app.bind(TaskHttpBindings.CONFIG).to(http);
      app.controller(HostPingController);
    },
  });
}

/** The app refuses to start with `message`; what did start of it is stopped. */
async function expectStartFailure(
  db: TestDatabase,
  http: TaskHttpConfig,
  security: TaskSecurityConfig | undefined,
  message: RegExp,
) {
  let app: TestTaskApp | undefined;
  const started = givenTestApp({
    db,
    before: a => {
      app = a;
      if (security) a.bind(TaskSecurityBindings.CONFIG).to(security);
    },
    after: a => {
      a.component(TaskHttpComponent);
      a.bind(TaskHttpBindings.CONFIG).to(http);
    },
  });
  try {
    await expect(started).to.be.rejectedWith(message);
  } finally {
    // It failed while initialising: nothing started but its datasources.
    for (const name of [TaskDbSourceName, WorkflowServiceSourceName]) {
      await app
        ?.getSync<juggler.DataSource>(`datasources.${name}`)
        .disconnect();
    }
  }
}

async function givenClientApp(client: Client, clientName: string) {
  const res = await client
    .post('/client-apps')
    .set(admin)
    .send({clientName})
    .expect(200);
  return res.body as {name: string; apiKey: string; apiSecret: string};
}

describe('Hostile input and safe defaults (PostgreSQL, Camunda)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    t = await givenApp(db);
    client = t.client;
  });
  after(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('runs after authentication and authorization: no permission is a 403 whatever the input', async () => {
    const viewer = bearer(tokenWith(['ViewTask']));
    await client.get('/tasks?wher=x').expect(401);
    await client.patch('/tasks?where[__proto__][x]=1').set(viewer).expect(403);
    await client.get('/tasks?wher=x').set(viewer).expect(400);
  });

  it("leaves the host app's own routes to the host: a query parameter they do not declare is theirs", async () => {
    const res = await client.get('/host-ping?msg=world').expect(200);
    expect(res.body).to.eql({query: {msg: 'world'}});
    await client.get('/tasks?msg=world').set(admin).expect(400);
  });

  describe('headers', () => {
    it('security headers on every answer, no X-Powered-By', async () => {
      for (const [path, headers] of [
        ['/tasks', admin],
        ['/tasks', {}],
        ['/no-such-route', admin],
        ['/tasks?wher=1', admin],
      ] as const) {
        const res = await client.get(path).set(headers);
        expect({path, nosniff: res.headers['x-content-type-options']}).to.eql({
          path,
          nosniff: 'nosniff',
        });
        expect(res.headers).to.not.have.property('x-powered-by');
        expect(res.headers).to.have.property('x-frame-options');
      }
    });

    it('CORS by default: any origin, never with credentials', async () => {
      const res = await client
        .options('/tasks')
        .set('Origin', 'https://elsewhere.example')
        .set('Access-Control-Request-Method', 'GET')
        .expect(204);
      expect(res.headers['access-control-allow-origin']).to.equal('*');
      expect(res.headers).to.not.have.property(
        'access-control-allow-credentials',
      );
    });

    it('CORS configured: listed origins only, credentials allowed for them', async () => {
      const other = await givenApp(db, testHttpConfig(), {
        cors: {origins: ['https://app.example'], credentials: true},
      });
      try {
        const allowed = await other.client
          .options('/tasks')
          .set('Origin', 'https://app.example')
          .set('Access-Control-Request-Method', 'GET');
        expect(allowed.headers['access-control-allow-origin']).to.equal(
          'https://app.example',
        );
        expect(allowed.headers['access-control-allow-credentials']).to.equal(
          'true',
        );
        const refused = await other.client
          .options('/tasks')
          .set('Origin', 'https://evil.example')
          .set('Access-Control-Request-Method', 'GET');
        expect(refused.headers).to.not.have.property(
          'access-control-allow-origin',
        );
      } finally {
        await other.stop();
      }
    });

    it('CORS with any origin and credentials is refused at start', async () => {
      await expectStartFailure(
        db,
        testHttpConfig(),
        {cors: {origins: '*', credentials: true}},
        /credentials cannot be allowed for any origin/,
      );
    });
  });

  describe('GET /webhooks/deliveries pagination', () => {
    it('limit and offset page through the newest first', async () => {
      const app = await givenClientApp(client, 'pager');
      const creds = {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret};
      await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set(creds)
        .send({url: 'http://127.0.0.1:9/closed', key: 'paged'})
        .expect(200);
      const stream = await t.app.get(TaskHttpBindings.STREAM_SERVICE);
      for (let i = 0; i < 3; i++) {
        await stream.publish({
          key: 'paged',
          payload: {i},
          timestamp: Date.now(),
          source: 'task-service',
        });
      }
      const all = await client
        .get('/webhooks/deliveries')
        .set(admin)
        .set(creds)
        .expect(200);
      expect(all.body).to.have.length(3);
      const ids = all.body.map((d: {id: string}) => d.id);
      for (const [query, expected] of [
        ['limit=1', ids.slice(0, 1)],
        ['limit=1&offset=1', ids.slice(1, 2)],
        ['limit=2&offset=1', ids.slice(1, 3)],
        ['offset=3', []],
      ] as const) {
        const page = await client
          .get(`/webhooks/deliveries?${query}`)
          .set(admin)
          .set(creds)
          .expect(200);
        expect(page.body.map((d: {id: string}) => d.id)).to.eql(expected);
      }
      for (const bad of ['limit=0', 'limit=1001', 'limit=x', 'offset=-1']) {
        await client
          .get(`/webhooks/deliveries?${bad}`)
          .set(admin)
          .set(creds)
          .expect(400);
      }
    });
  });

  describe('client secrets at rest', () => {
    it('are stored encrypted; webhooks are still signed with the plaintext', async () => {
      const receiver = await new WebhookReceiver().start();
      try {
        const app = await givenClientApp(client, 'vault');
        const [row] = await db.query<{api_secret: string}>(
          'SELECT api_secret FROM main.client_apps WHERE api_key = $1',
          [app.apiKey],
        );
        expect(row.api_secret).to.startWith(`enc:v1:${TEST_SECRET_KEY.id}:`);
        expect(row.api_secret).to.not.containEql(app.apiSecret);
        const creds = {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret};
        await client
          .post('/webhooks/subscribe')
          .set(admin)
          .set(creds)
          .send({url: receiver.url, key: 'vaulted'})
          .expect(200);
        const stream = await t.app.get(TaskHttpBindings.STREAM_SERVICE);
        await stream.publish({
          key: 'vaulted',
          payload: {},
          timestamp: Date.now(),
          source: 'task-service',
        });
        const hook = await eventually(
          () => receiver.received[0],
          'the signed webhook',
        );
        expect(
          verifySignature(hook.body, hook.headers, app.apiSecret),
        ).to.be.true();
      } finally {
        await receiver.stop();
      }
    });

    it('a second live app of the same name is a 409', async () => {
      await givenClientApp(client, 'twin');
      const res = await client
        .post('/client-apps')
        .set(admin)
        .send({clientName: 'twin'})
        .expect(409);
      expect(res.body.error.message).to.match(/twin.*already exists/);
      const rows = await db.query(
        "SELECT 1 FROM main.client_apps WHERE name = 'twin'",
      );
      expect(rows).to.have.length(1);
    });

    it('plaintext rows of an older version keep working and are encrypted at the next start; keys rotate', async () => {
      // A database of its own: the rotation changes every row.
      const own = await TestDatabase.create();
      const first = await givenApp(own);
      try {
        await rotation(own, first.client);
      } finally {
        await first.stop();
        await own.drop();
      }
    });

    async function rotation(own: TestDatabase, ownClient: Client) {
      await givenClientApp(ownClient, 'modern');
      const secret = 'c'.repeat(64);
      await own.query(
        "INSERT INTO main.client_apps (name, api_key, api_secret) VALUES ('legacy-app', 'legacy-key', $1)",
        [secret],
      );
      const creds = {'x-api-key': 'legacy-key', 'x-api-secret': secret};
      await ownClient
        .get('/webhooks/deliveries')
        .set(admin)
        .set(creds)
        .expect(200);
      const stored = async () =>
        (
          await own.query<{api_secret: string}>(
            "SELECT api_secret FROM main.client_apps WHERE api_key = 'legacy-key'",
          )
        )[0].api_secret;
      expect(await stored()).to.equal(secret);

      // A restart re-encrypts it.
      const restarted = await givenApp(own);
      try {
        expect(await stored()).to.startWith(`enc:v1:${TEST_SECRET_KEY.id}:`);
        await restarted.client
          .get('/webhooks/deliveries')
          .set(admin)
          .set(creds)
          .expect(200);
      } finally {
        await restarted.stop();
      }

      // Rotation: a new key first, the old one kept; at start every row
      // moves to the new key; then the old key can go.
      const newKey = {
        id: 'test-2',
        key: Buffer.alloc(32, 9).toString('base64'),
      };
      const rotating = await givenApp(
        own,
        testHttpConfig({secretKeys: [newKey, TEST_SECRET_KEY]}),
      );
      await rotating.stop();
      const secrets = await own.query<{api_secret: string}>(
        'SELECT api_secret FROM main.client_apps',
      );
      expect(secrets).to.have.length(2);
      for (const {api_secret} of secrets) {
        expect(api_secret).to.startWith('enc:v1:test-2:');
      }
      const rotated = await givenApp(
        own,
        testHttpConfig({secretKeys: [newKey]}),
      );
      try {
        await rotated.client
          .get('/webhooks/deliveries')
          .set(admin)
          .set(creds)
          .expect(200);
        expect(new SecretCipher([newKey]).decrypt(await stored())).to.equal(
          secret,
        );
      } finally {
        await rotated.stop();
      }
    }

    it('without a key the HTTP connector does not start', async () => {
      await expectStartFailure(
        db,
        {allowPrivateUrls: true},
        undefined,
        /secretKeys.*No secret encryption key/,
      );
    });

    it('the migration makes repeated live names distinct before indexing them', async () => {
      const other = await TestDatabase.create();
      try {
        // As a database of the earlier version: no unique index yet.
        await other.query('DROP INDEX main.uq_client_apps_live_name');
        await other.query(
          "DELETE FROM migrations_http WHERE name LIKE '%client-app-names'",
        );
        await other.query(`INSERT INTO main.client_apps (name, api_key, api_secret, created_on) VALUES
          ('shop', 'k1', 's', now() - interval '2 days'),
          ('shop', 'k2', 's', now() - interval '1 day'),
          ('shop', 'k3', 's', now())`);
        await other.migrate('up', ['http']);
        const rows = await other.query<{name: string; api_key: string}>(
          'SELECT name, api_key FROM main.client_apps ORDER BY api_key',
        );
        expect(rows[0]).to.eql({name: 'shop', api_key: 'k1'});
        expect(rows[1].name).to.match(/^shop \([0-9a-f-]{36}\)$/);
        expect(rows[2].name).to.match(/^shop \([0-9a-f-]{36}\)$/);
        await expect(
          other.query(
            "INSERT INTO main.client_apps (name, api_key, api_secret) VALUES ('shop', 'k4', 's')",
          ),
        ).to.be.rejectedWith(/uq_client_apps_live_name/);
        await other.migrate('down', ['http']);
      } finally {
        await other.drop();
      }
    });
  });

  describe('the engine', () => {
    async function deployments(): Promise<number> {
      const {count} = await camunda<{count: number}>(
        `/deployment/count?tenantIdIn=${db.name}`,
      );
      return count;
    }

    it('BPMN the engine cannot read is a 400 with its reason, and nothing stays deployed', async () => {
      const before = await deployments();
      for (const [bpmnFile, reason] of [
        ['<not xml', /could not parse/i],
        ['hello', /Content is not allowed in prolog/],
        [
          '<?xml version="1.0"?><a/>',
          /Cannot find the declaration of element 'a'/,
        ],
        [
          bpmn('parent').xml.replace(
            'isExecutable="true"',
            'isExecutable="false"',
          ),
          /no executable process/,
        ],
      ] as const) {
        const res = await client
          .post('/workflows')
          .set(admin)
          .send({name: 'refused', bpmnFile})
          .expect(400);
        expect(res.body.error.message).to.match(
          /^The engine refused the BPMN: /,
        );
        expect(res.body.error.message).to.match(reason);
      }
      expect(await deployments()).to.equal(before);
      const rows = await db.query('SELECT 1 FROM main.workflows');
      expect(rows).to.have.length(0);
    });

    it('a backtracking inputSchema pattern cannot hold up other requests', async () => {
      const {xml} = bpmn('parent');
      const created = await client
        .post('/workflows')
        .set(admin)
        .send({
          name: 'redos',
          bpmnFile: xml,
          inputSchema: {
            type: 'object',
            properties: {code: {type: 'string', pattern: '^(a+)+$'}},
          },
        })
        .expect(200);
      // 2.2 s at 29 characters on a backtracking engine, doubling with each
      // one more: at 5000 it would never finish.
      const attack = client
        .post(`/workflows/${created.body.id}/execute`)
        .set(admin)
        .send({input: {code: 'a'.repeat(5000) + '!'}});
      const other = client.get('/tasks/count').set(admin);
      const [refused, answered] = await Promise.all([attack, other]);
      expect(refused.status).to.equal(400);
      expect(refused.body.error.message).to.match(/must match pattern/);
      expect(answered.status).to.equal(200);
      await client
        .post('/workflows')
        .set(admin)
        .send({
          name: 'lookahead',
          bpmnFile: bpmn('parent').xml,
          inputSchema: {type: 'string', pattern: '(?=a)a'},
        })
        .expect(400);
    });
  });

  describe('rate limits', () => {
    let limited: TestApp;
    before(async () => {
      limited = await givenApp(db, testHttpConfig(), {
        rateLimits: {
          authFailures: {points: 3, durationSeconds: 60},
          apiCredentialFailures: {points: 2, durationSeconds: 60},
          trigger: {points: 4, durationSeconds: 60},
        },
      });
    });
    after(() => limited?.stop());

    it('failed bearer tokens: 401 until the limit, then 429 with Retry-After, even for a good token', async () => {
      for (let i = 0; i < 3; i++) {
        await limited.client
          .get('/tasks')
          .set(bearer(`bad-token-${i}`))
          .expect(401);
      }
      for (const headers of [bearer('bad-token-4'), admin]) {
        const res = await limited.client.get('/tasks').set(headers).expect(429);
        expect(Number(res.headers['retry-after'])).to.be.within(1, 60);
        expect(res.body.error.message).to.match(
          /Too many failed authentications/,
        );
      }
    });
  });

  describe('rate limits per route', () => {
    let limited: TestApp;
    before(async () => {
      limited = await givenApp(db, testHttpConfig(), {
        rateLimits: {
          apiCredentialFailures: {points: 2, durationSeconds: 60},
          trigger: {points: 4, durationSeconds: 60},
        },
      });
    });
    after(() => limited?.stop());

    it('failed api key/secret checks: 429 with Retry-After after the limit', async () => {
      const app = await givenClientApp(limited.client, 'guessed');
      for (let i = 0; i < 2; i++) {
        await limited.client
          .get('/webhooks/deliveries')
          .set(admin)
          .set({'x-api-key': app.apiKey, 'x-api-secret': `guess-${i}`})
          .expect(401);
      }
      const res = await limited.client
        .get('/webhooks/deliveries')
        .set(admin)
        .set({'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret})
        .expect(429);
      expect(Number(res.headers['retry-after'])).to.be.within(1, 60);
    });

    it('POST /events/trigger: 429 with Retry-After over the limit, per caller', async () => {
      for (let i = 0; i < 4; i++) {
        await limited.client
          .post('/events/trigger')
          .set(admin)
          .send({key: 'burst'})
          .expect(204);
      }
      const res = await limited.client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'burst'})
        .expect(429);
      expect(res.headers).to.have.property('retry-after');
      // Another caller has its own allowance.
      await limited.client
        .post('/events/trigger')
        .set(bearer(tokenWith(['TriggerEvent'], {id: 'user-2'})))
        .send({key: 'burst'})
        .expect(204);
    });
  });
});
