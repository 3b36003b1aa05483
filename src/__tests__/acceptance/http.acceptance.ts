import {Client, expect} from '@loopback/testlab';
import {
  HttpStreamService,
  TaskHttpBindings,
  TaskHttpComponent,
} from '../../connectors/http';
import {IWorkflowManager} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {testHttpConfig} from '../fixtures/http-config';
import {captureConsole, capturingLogger} from '../fixtures/log-capture';
import {RecordingConnector} from '../fixtures/recording-connector';
import {TaskObservabilityBindings} from '../../observability';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

describe('HTTP connector routes (PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const logs = captureConsole();
  // The service's own lines, at debug: what an operator's log would hold.
  const serviceLog = capturingLogger('debug');
  const secrets: string[] = [];

  before(async () => {
    db = await TestDatabase.create();
    t = await givenTestApp({
      db,
      before: app =>
        app.bind(TaskObservabilityBindings.LOGGER).to(serviceLog.logger),
      after: app => {
        app.component(TaskHttpComponent);
        app.bind(TaskHttpBindings.CONFIG).to(testHttpConfig());
        app
          .bind(TaskServiceBindings.WORKFLOW_MANAGER)
          .to({} as IWorkflowManager);
      },
    });
    client = t.client;
  });
  after(async () => {
    logs.restore();
    await t?.stop();
    await db?.drop();
  });

  // Names of live client apps are unique.
  let apps = 0;
  async function givenClientApp(name = `billing-${++apps}`) {
    const res = await client
      .post('/client-apps')
      .set(admin)
      .send({clientName: name})
      .expect(200);
    secrets.push(res.body.apiSecret);
    return res.body as {name: string; apiKey: string; apiSecret: string};
  }

  describe('connector bindings', () => {
    it('binds one HttpStreamService as incoming and as outgoing connector', async () => {
      const incoming = await t.app.get(TaskServiceBindings.INCOMING_CONNECTOR);
      const outgoing = await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
      expect(incoming).to.be.instanceOf(HttpStreamService);
      expect(outgoing).to.equal(incoming);
    });

    it('rebinding the outgoing connector leaves the incoming one alone', async () => {
      const stream = await t.app.get(TaskHttpBindings.STREAM_SERVICE);
      const recording = new RecordingConnector();
      t.app.bind(TaskServiceBindings.OUTGOING_CONNECTOR).to(recording);
      try {
        expect(
          await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR),
        ).to.equal(recording);
        expect(
          await t.app.get(TaskServiceBindings.INCOMING_CONNECTOR),
        ).to.equal(stream);
      } finally {
        t.app
          .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
          .toAlias(TaskHttpBindings.STREAM_SERVICE);
      }
    });
  });

  describe('POST /events/trigger', () => {
    it('stores the event through the event processor and answers 204', async () => {
      const before = Date.now();
      await client
        .post('/events/trigger')
        .set(admin)
        .send({
          key: 'order-placed',
          payload: {orderId: 7, name: 'test'},
          source: 'shop',
          description: 'an order',
        })
        .expect(204);
      const rows = await db.query<{
        key: string;
        payload: object;
        source: string;
        description: string;
        timestamp: string;
      }>("SELECT * FROM main.events WHERE key = 'order-placed'");
      expect(rows).to.have.length(1);
      expect(rows[0]).to.containDeep({
        key: 'order-placed',
        payload: {orderId: 7, name: 'test'},
        source: 'shop',
        description: 'an order',
      });
      // The server sets the timestamp.
      expect(Number(rows[0].timestamp)).to.be.within(before, Date.now());
    });

    it('defaults the description to "Task for <key>"', async () => {
      await client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'bare-event'})
        .expect(204);
      const rows = await db.query<{description: string; source: string}>(
        "SELECT description, source FROM main.events WHERE key = 'bare-event'",
      );
      expect(rows).to.eql([
        {description: 'Task for bare-event', source: 'http'},
      ]);
    });

    it('422 with the reason for an invalid body', async () => {
      const missingKey = await client
        .post('/events/trigger')
        .set(admin)
        .send({payload: {}})
        .expect(422);
      expect(JSON.stringify(missingKey.body.error.details)).to.match(/key/);
      const notAnObject = await client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'x', payload: 'text'})
        .expect(422);
      expect(JSON.stringify(notAnObject.body.error.details)).to.match(/object/);
      const unknown = await client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'x', tenant: 1})
        .expect(422);
      expect(JSON.stringify(unknown.body.error.details)).to.match(
        /additional properties|additionalProperties/i,
      );
      const rows = await db.query("SELECT 1 FROM main.events WHERE key = 'x'");
      expect(rows).to.have.length(0);
    });

    it('a retry with the same Idempotency-Key is stored once', async () => {
      for (let i = 0; i < 2; i++) {
        await client
          .post('/events/trigger')
          .set(admin)
          .set('Idempotency-Key', 'order-7')
          .send({key: 'idempotent', payload: {n: 7}})
          .expect(204);
      }
      const rows = await db.query(
        "SELECT 1 FROM main.events WHERE key = 'idempotent'",
      );
      expect(rows).to.have.length(1);
    });

    it('accepts a client timestamp for compatibility but stores the server time', async () => {
      const before = Date.now();
      await client
        .post('/events/trigger')
        .set(admin)
        .send({key: 'client-time', timestamp: 1})
        .expect(204);
      const [row] = await db.query<{timestamp: string}>(
        `SELECT "timestamp" FROM main.events WHERE key = 'client-time'`,
      );
      expect(Number(row.timestamp)).to.be.greaterThanOrEqual(before);
    });

    it('401 without a token, 403 without TriggerEvent', async () => {
      await client.post('/events/trigger').send({key: 'k'}).expect(401);
      await client
        .post('/events/trigger')
        .set(bearer(tokenWith(['16001'])))
        .send({key: 'k'})
        .expect(403);
      await client
        .post('/events/trigger')
        .set(bearer(tokenWith(['TriggerEvent'])))
        .send({key: 'k'})
        .expect(204);
    });
  });

  describe('POST /client-apps', () => {
    it('returns name, key <clientName>-<uuid> and a 32-byte random secret', async () => {
      const created = await givenClientApp('crm');
      expect(created.name).to.equal('crm');
      expect(created.apiKey).to.match(
        /^crm-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(created.apiSecret).to.match(/^[0-9a-f]{64}$/);
      const other = await givenClientApp('crm-2');
      expect(other.apiKey).to.not.equal(created.apiKey);
      expect(other.apiSecret).to.not.equal(created.apiSecret);
      const rows = await db.query(
        'SELECT name, api_key, created_by FROM main.client_apps WHERE api_key = $1',
        [created.apiKey],
      );
      expect(rows).to.eql([
        {name: 'crm', api_key: created.apiKey, created_by: 'user-1'},
      ]);
    });

    it('also answers at the original path /client-app', async () => {
      const res = await client
        .post('/client-app')
        .set(admin)
        .send({clientName: 'legacy'})
        .expect(200);
      secrets.push(res.body.apiSecret);
      expect(res.body).to.have.properties('name', 'apiKey', 'apiSecret');
    });

    it('needs CreateApiKey and a clientName', async () => {
      await client
        .post('/client-apps')
        .set(bearer(tokenWith(['16010'])))
        .send({clientName: 'x'})
        .expect(403);
      await client.post('/client-apps').set(admin).send({}).expect(422);
    });
  });

  describe('POST /webhooks/subscribe', () => {
    it('401 "Invalid API key or secret" for a missing or wrong key or secret', async () => {
      const app = await givenClientApp();
      const body = {url: 'http://127.0.0.1:9/hook', key: 'task-created'};
      const cases = [
        {},
        {'x-api-key': app.apiKey},
        {'x-api-key': 'nobody-1', 'x-api-secret': app.apiSecret},
        {'x-api-key': app.apiKey, 'x-api-secret': 'wrong'},
        {
          'x-api-key': app.apiKey,
          'x-api-secret': app.apiSecret.slice(0, -1) + 'x',
        },
      ];
      for (const headers of cases) {
        const res = await client
          .post('/webhooks/subscribe')
          .set(admin)
          .set(headers)
          .send(body)
          .expect(401);
        expect(res.body.error.message).to.equal('Invalid API key or secret');
      }
    });

    it('subscribing twice is one subscription, recorded for the client', async () => {
      const app = await givenClientApp();
      const creds = {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret};
      const body = {
        url: 'https://example.com/hooks/tasks',
        key: 'task-created',
      };
      const first = await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set(creds)
        .send(body)
        .expect(200);
      const second = await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set(creds)
        .send(body)
        .expect(200);
      expect(second.body.id).to.equal(first.body.id);
      const rows = await db.query<{client_app_id: string; name: string}>(
        `SELECT s.client_app_id, c.name FROM main.webhook_subscriptions s
           JOIN main.client_apps c ON c.id = s.client_app_id
          WHERE s.url = $1 AND s.key = $2`,
        [body.url, body.key],
      );
      expect(rows).to.have.length(1);
      expect(rows[0].client_app_id).to.equal(first.body.clientAppId);
      expect(JSON.stringify(first.body)).to.not.containEql(app.apiSecret);
    });

    it('needs SubscribeToWebhook', async () => {
      const app = await givenClientApp();
      await client
        .post('/webhooks/subscribe')
        .set(bearer(tokenWith(['16001'])))
        .set({'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret})
        .send({url: 'http://127.0.0.1/x', key: 'k'})
        .expect(403);
    });

    it('422 with the reason for a malformed or non-http URL', async () => {
      const app = await givenClientApp();
      const creds = {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret};
      for (const [url, reason] of [
        ['not a url', /not a well-formed URL/],
        ['ftp://example.com/x', /http or https/],
        ['javascript:alert(1)', /http or https/],
        ['http://user:pw@example.com/', /credentials/],
      ] as const) {
        const res = await client
          .post('/webhooks/subscribe')
          .set(admin)
          .set(creds)
          .send({url, key: 'k'})
          .expect(422);
        expect(res.body.error.message).to.match(reason);
      }
    });

    it('refuses private and loopback addresses when allowPrivateUrls is false', async () => {
      const app = await givenClientApp();
      const creds = {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret};
      t.app
        .bind(TaskHttpBindings.CONFIG)
        .to(testHttpConfig({allowPrivateUrls: false}));
      try {
        for (const url of [
          'http://127.0.0.1:8080/x',
          'http://localhost/x',
          'http://[::1]/x',
          'http://10.1.2.3/x',
          'http://192.168.0.10/x',
          'http://169.254.169.254/latest/meta-data',
          'http://[::ffff:10.0.0.1]/x',
        ]) {
          const res = await client
            .post('/webhooks/subscribe')
            .set(admin)
            .set(creds)
            .send({url, key: 'k'});
          expect({url, status: res.status}).to.eql({url, status: 422});
          expect(res.body.error.message).to.match(
            /loopback|private network|metadata/,
          );
        }
        // A public address literal is fine (no DNS needed).
        await client
          .post('/webhooks/subscribe')
          .set(admin)
          .set(creds)
          .send({url: 'https://93.184.216.34/hook', key: 'k'})
          .expect(200);
      } finally {
        t.app.bind(TaskHttpBindings.CONFIG).to(testHttpConfig());
      }
      // Allowed with allowPrivateUrls.
      await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set(creds)
        .send({url: 'http://127.0.0.1:8080/x', key: 'k'})
        .expect(200);
    });
  });

  describe('secrets', () => {
    it('GET /webhooks/deliveries never shows the secret; nothing logged it', async () => {
      const app = await givenClientApp('quiet');
      const creds = {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret};
      await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set(creds)
        .send({url: 'http://127.0.0.1:9/closed', key: 'quiet-event'})
        .expect(200);
      const connector = await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
      await connector.publish({
        key: 'quiet-event',
        payload: {a: 1},
        timestamp: Date.now(),
        source: 'task-service',
      });
      const res = await client
        .get('/webhooks/deliveries')
        .set(admin)
        .set(creds)
        .expect(200);
      expect(res.body).to.have.length(1);
      expect(res.body[0]).to.not.have.properties('lockToken', 'lockedUntil');
      const text = JSON.stringify(res.body);
      // The service logged these requests: the search reads real lines.
      expect(serviceLog.lines.length).to.be.above(0);
      for (const secret of secrets) {
        expect(text).to.not.containEql(secret);
        expect(logs.lines.join('\n')).to.not.containEql(secret);
        expect(serviceLog.lines.join('\n')).to.not.containEql(secret);
      }
      expect(secrets.length).to.be.above(3);
    });
  });
});
