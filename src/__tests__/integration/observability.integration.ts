import {expect} from '@loopback/testlab';
import {juggler} from '@loopback/repository';
import {KafkaStreamService} from '../../connectors/kafka';
import {
  TaskObservabilityBindings,
  TaskObservabilityConfig,
} from '../../observability';
import {TaskDbSourceName, WorkflowServiceSourceName} from '../../types';
import {
  eventually,
  givenTestApp,
  LOCAL_ENGINE_URL,
  TestApp,
  TestTaskApp,
} from '../fixtures/app';
import {assertCamundaUp} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {capturingLogger} from '../fixtures/log-capture';
import {freePort} from '../fixtures/services';
import {TcpProxy} from '../fixtures/tcp-proxy';
import {ensureKafka, kafkaConnection, uniqueName} from './kafka.helpers';

interface Readiness {
  status: string;
  failing: string[];
  checks: {name: string; status: string; error?: string}[];
}

/** Observability settings and a logger that keeps its lines, bound before the component. */
function observed(config: TaskObservabilityConfig, lines?: string[]) {
  const capture = capturingLogger();
  return {
    lines: lines ?? capture.lines,
    records: capture.records,
    before: (app: TestTaskApp) => {
      app.bind(TaskObservabilityBindings.CONFIG).to(config);
      app.bind(TaskObservabilityBindings.LOGGER).to(capture.logger);
    },
  };
}

async function readiness(t: TestApp, expected: number): Promise<Readiness> {
  const res = await t.client.get('/ready').expect(expected);
  return res.body as Readiness;
}

describe('Operations over HTTP: /health, /ready, /metrics (PostgreSQL, Camunda)', function () {
  this.timeout(90000);
  let db: TestDatabase;

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
  });
  after(() => db?.drop());

  describe('with the defaults', () => {
    let t: TestApp;
    const logs = observed({readiness: {outboxMaxAgeMs: 60_000}});

    before(async () => {
      t = await givenTestApp({db, before: logs.before});
    });
    after(() => t?.stop());

    it('GET /health answers 200 without a token', async () => {
      const res = await t.client.get('/health').expect(200);
      expect(res.body.status).to.equal('UP');
    });

    it('GET /ready answers 200 without a token, naming every check', async () => {
      const report = await readiness(t, 200);
      expect(report.status).to.equal('UP');
      expect(report.failing).to.eql([]);
      expect(report.checks.map(c => c.name)).to.eql([
        'lifecycle',
        'database',
        'workflow-database',
        'engine',
        'outbox',
      ]);
      expect(report.checks.every(c => c.status === 'up')).to.be.true();
    });

    it('GET /metrics answers Prometheus text, with request durations by route template', async () => {
      await t.client.get('/tasks/some-id').expect(401);
      const res = await t.client.get('/metrics').expect(200);
      expect(res.get('content-type')).to.match(
        /^text\/plain;.*version=0\.0\.4/,
      );
      const text = res.text;
      for (const name of [
        'task_service_events_received_total',
        'task_service_tasks_created_total',
        'task_service_tasks_completed_total',
        'task_service_commands_run_total',
        'task_service_commands_failed_total',
        'task_service_outbox_pending_events',
        'task_service_outbox_oldest_pending_age_seconds',
        'task_service_webhook_deliveries_total',
        'task_service_webhook_delivery_duration_seconds',
        'task_service_kafka_dead_letters_total',
        'task_service_http_request_duration_seconds',
        'process_cpu_user_seconds_total',
      ]) {
        expect(text).to.match(new RegExp(`^# TYPE ${name} `, 'm'));
      }
      expect(text).to.match(
        /task_service_http_request_duration_seconds_count\{method="GET",route="\/tasks\/\{id\}",status="401"\} 1/,
      );
      expect(text).to.match(/^task_service_outbox_pending_events 0$/m);
    });

    it('documents /health, /ready and /metrics in the OpenAPI document, open without a token', async () => {
      const spec = (await t.client.get('/openapi.json').expect(200)).body;
      for (const path of ['/health', '/ready', '/metrics']) {
        expect(spec.paths).to.have.property(path);
        expect(spec.paths[path].get.security ?? []).to.eql([]);
      }
      expect(spec.paths['/ready'].get.responses).to.have.properties([
        '200',
        '503',
      ]);
    });

    it('gives each request an id, echoed in the response and on its log line, and logs the path without the query', async () => {
      const given = await t.client
        .get('/tasks?filter=x&access_token=super-secret-value')
        .set('x-request-id', 'req-42')
        .expect(401);
      expect(given.get('x-request-id')).to.equal('req-42');
      const made = await t.client.get('/tasks').expect(401);
      expect(made.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      const line = await eventually(
        () =>
          logs
            .records()
            .find(r => r.msg === 'request' && r.requestId === 'req-42'),
        'the log line of the request',
      );
      expect(line).to.containDeep({
        method: 'GET',
        path: '/tasks',
        route: '/tasks',
        status: 401,
        level: 'info',
      });
      expect(logs.lines.join('\n')).to.not.match(/super-secret-value/);
    });

    it('answers 503 naming the outbox while its oldest unpublished event is older than the bound, 200 once it is gone', async () => {
      // Held back by a far retry time, so the relay leaves it waiting.
      await db.query(
        `INSERT INTO main.outbox_events (key, event, created_on, available_on)
         VALUES ('task-created', '{"key":"task-created","payload":{}}', now() - interval '2 minutes', now() + interval '1 hour')`,
      );
      try {
        const report = await readiness(t, 503);
        expect(report.failing).to.eql(['outbox']);
        expect(report.checks.find(c => c.name === 'outbox')?.error).to.match(
          /oldest of 1 unpublished events is 1[12]\d s old \(bound 60 s\)/,
        );
        const text = (await t.client.get('/metrics').expect(200)).text;
        expect(text).to.match(/^task_service_outbox_pending_events 1$/m);
        const age = Number(
          /^task_service_outbox_oldest_pending_age_seconds (\S+)$/m.exec(
            text,
          )![1],
        );
        expect(age).to.be.within(115, 200);
      } finally {
        await db.query(
          `DELETE FROM main.outbox_events WHERE published_on IS NULL`,
        );
      }
      await readiness(t, 200);
    });
  });

  describe('with a metrics token', () => {
    let t: TestApp;
    const token = 'metrics-token-for-tests';

    before(async () => {
      t = await givenTestApp({db, before: observed({metrics: {token}}).before});
    });
    after(() => t?.stop());

    it('refuses a scrape without the token or with another, and serves one with it', async () => {
      await t.client.get('/metrics').expect(401);
      await t.client
        .get('/metrics')
        .set('authorization', 'Bearer nope')
        .expect(401);
      const res = await t.client
        .get('/metrics')
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      expect(res.text).to.match(/task_service_events_received_total/);
      // Probes stay open.
      await t.client.get('/health').expect(200);
      await t.client.get('/ready').expect(200);
    });
  });

  describe('with metrics on a port of their own', () => {
    let t: TestApp;
    let port: number;

    before(async () => {
      port = await freePort();
      t = await givenTestApp({
        db,
        before: observed({metrics: {port, token: 'side-port-token'}}).before,
      });
    });
    after(() => t?.stop());

    it('serves /metrics there, with its token, and not on the REST server', async () => {
      await t.client.get('/metrics').expect(404);
      const url = `http://127.0.0.1:${port}/metrics`;
      expect((await fetch(url)).status).to.equal(401);
      const res = await fetch(url, {
        headers: {authorization: 'Bearer side-port-token'},
      });
      expect(res.status).to.equal(200);
      expect(await res.text()).to.match(/task_service_commands_run_total/);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).to.equal(
        404,
      );
    });
  });

  describe('when PostgreSQL or the engine goes away and comes back', () => {
    let t: TestApp;
    let database: TcpProxy;
    let engine: TcpProxy;

    before(async () => {
      database = await TcpProxy.start(db.connection.host, db.connection.port);
      const engineUrl = new URL(LOCAL_ENGINE_URL);
      engine = await TcpProxy.start(
        engineUrl.hostname,
        Number(engineUrl.port || 80),
      );
      t = await givenTestApp({
        db,
        engineUrl: `http://127.0.0.1:${engine.port}${engineUrl.pathname}`,
        before: app => {
          observed({readiness: {checkTimeoutMs: 2000}}).before(app);
          // Both datasources through the proxy.
          for (const name of [TaskDbSourceName, WorkflowServiceSourceName]) {
            app.dataSource(
              new juggler.DataSource({
                ...db.dataSourceConfig(name),
                host: '127.0.0.1',
                port: database.port,
              }),
              name,
            );
          }
        },
      });
    });
    after(async () => {
      await database?.open();
      await engine?.open();
      await t?.stop();
      await database?.close();
      await engine?.close();
    });

    it('answers 503 naming the database while PostgreSQL is unreachable, and 200 once it is back', async () => {
      await readiness(t, 200);
      await database.close();
      const down = await eventually(async () => {
        const res = await t.client.get('/ready');
        return res.status === 503 ? (res.body as Readiness) : undefined;
      }, '/ready to answer 503');
      expect(down.failing).to.eql(['database', 'workflow-database', 'outbox']);
      await t.client.get('/health').expect(200);
      await database.open();
      await eventually(
        async () => (await t.client.get('/ready')).status === 200,
        '/ready to answer 200 again',
      );
    });

    it('answers 503 naming the engine while it is unreachable, and 200 once it is back', async () => {
      await readiness(t, 200);
      await engine.close();
      const down = await readiness(t, 503);
      expect(down.failing).to.eql(['engine']);
      expect(down.checks.find(c => c.name === 'engine')?.error).to.match(
        /engine not reachable/,
      );
      await engine.open();
      await readiness(t, 200);
    });
  });

  describe('with a Kafka connector bound', () => {
    let reachable: KafkaStreamService;
    let unreachable: KafkaStreamService;
    let t: TestApp;
    let u: TestApp;

    before(async () => {
      await ensureKafka();
      const {logger} = capturingLogger();
      reachable = new KafkaStreamService(
        {connection: kafkaConnection(), output: {topic: uniqueName('ready')}},
        undefined,
        undefined,
        logger,
      );
      const closed = await freePort();
      unreachable = new KafkaStreamService(
        {
          connection: {
            ...kafkaConnection(),
            brokers: [`127.0.0.1:${closed}`],
            connectionTimeout: 500,
          },
          output: {topic: uniqueName('ready')},
        },
        undefined,
        undefined,
        logger,
      );
      t = await givenTestApp({
        db,
        outgoing: reachable,
        before: observed({}).before,
      });
      u = await givenTestApp({
        db,
        outgoing: unreachable,
        before: observed({}).before,
      });
    });
    after(async () => {
      await t?.stop();
      await u?.stop();
      await reachable?.stop();
      await unreachable?.stop();
    });

    it('checks the broker: 200 with kafka up when it answers, 503 naming kafka when it does not', async () => {
      const up = await readiness(t, 200);
      expect(up.checks.find(c => c.name === 'kafka')?.status).to.equal('up');
      const down = await readiness(u, 503);
      expect(down.failing).to.eql(['kafka']);
    });
  });
});
