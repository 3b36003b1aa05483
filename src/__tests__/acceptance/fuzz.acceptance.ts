import {expect} from '@loopback/testlab';
import http, {IncomingHttpHeaders} from 'http';
import {Client as PgClient} from 'pg';
import {TaskHttpBindings, TaskHttpComponent} from '../../connectors/http';
import {TaskSecurityBindings} from '../../security';
import {givenTestApp, TestApp} from '../fixtures/app';
import {captureConsole, capturingLogger} from '../fixtures/log-capture';
import {TaskObservabilityBindings} from '../../observability';
import {bpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {TEST_SECRET_KEY, testHttpConfig} from '../fixtures/http-config';
import {
  FuzzRequest,
  generateRequests,
  OpenApiDocument,
} from '../fixtures/openapi-fuzz';
import {
  ALL_PERMISSIONS,
  bearer,
  TEST_JWT_SECRET,
  tokenWith,
} from '../fixtures/tokens';

interface Answer {
  status: number;
  text: string;
  headers: IncomingHttpHeaders;
}

/** Sends a request exactly as generated (no content type unless it has one). */
function send(base: URL, request: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.url,
        headers: {
          ...request.headers,
          ...(request.body ? {'content-length': request.body.length} : {}),
        },
      },
      res => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c as Buffer));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    // A server that answers 413 may close before reading a huge body.
    req.on('error', err => {
      if (!answered) reject(err);
    });
    req.end(request.body);
  });
}

type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';

describe('Fuzz: malformed requests on every route of /openapi.json (PostgreSQL, Camunda)', function () {
  this.timeout(300000);
  let db: TestDatabase;
  let t: TestApp;
  let pg: PgClient;
  const logs = captureConsole();
  // The service's own lines, at debug: what an operator's log would hold.
  const serviceLog = capturingLogger('debug');

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    t = await givenTestApp({
      db,
      before: app => {
        app.bind(TaskObservabilityBindings.LOGGER).to(serviceLog.logger);
        // Valid tokens throughout: counted limits would only hide validation.
        app.bind(TaskSecurityBindings.CONFIG).to({
          rateLimits: {
            authFailures: false,
            apiCredentialFailures: false,
            trigger: false,
          },
        });
      },
      after: app => {
        app.component(TaskHttpComponent);
        // No background delivery: the tables change only by requests.
        app
          .bind(TaskHttpBindings.CONFIG)
          .to(testHttpConfig({delivery: {enabled: false}}));
      },
    });
    pg = new PgClient(db.connection);
    await pg.connect();
  });
  after(async () => {
    logs.restore();
    await pg?.end();
    await t?.stop();
    await db?.drop();
  });

  it('answers every malformed request with a 4xx, changes nothing, leaks no secret', async () => {
    const client = t.client;
    const admin = bearer(tokenWith(ALL_PERMISSIONS));

    // What the requests refer to, so they get past "not found".
    const clientApp = await client
      .post('/client-apps')
      .set(admin)
      .send({clientName: 'fuzz-client'})
      .expect(200);
    const apiSecret: string = clientApp.body.apiSecret;
    const creds = {
      'x-api-key': clientApp.body.apiKey as string,
      'x-api-secret': apiSecret,
    };
    await client
      .post('/webhooks/subscribe')
      .set(admin)
      .set(creds)
      .send({url: 'http://127.0.0.1:9/closed', key: 'fuzz-event'})
      .expect(200);
    const stream = await t.app.get(TaskHttpBindings.STREAM_SERVICE);
    await stream.publish({
      key: 'fuzz-event',
      payload: {},
      timestamp: Date.now(),
      source: 'task-service',
    });
    const [task] = await db.query<{id: string}>(
      "INSERT INTO main.tasks (key, name, metadata) VALUES ('fuzz', 'Fuzz task', '{\"a\":1}') RETURNING id",
    );
    const [userTask] = await db.query<{id: string}>(
      "INSERT INTO main.user_tasks (task_id, name, external_id) VALUES ($1, 'Review', 'fuzz-ut') RETURNING id",
      [task.id],
    );
    const [event] = await db.query<{id: string}>(
      "INSERT INTO main.events (key, payload, \"timestamp\") VALUES ('fuzz', '{}', 1) RETURNING id",
    );
    const [delivery] = await db.query<{id: string}>(
      'SELECT id FROM main.webhook_deliveries',
    );
    const workflow = await client
      .post('/workflows')
      .set(admin)
      .send({
        name: 'fuzz-workflow',
        bpmnFile: bpmn('parent').xml,
        inputSchema: {
          type: 'object',
          properties: {code: {type: 'string', pattern: '^(a+)+$'}},
        },
      })
      .expect(200);
    const ids: Record<string, string> = {
      tasks: task.id,
      events: event.id,
      workflows: workflow.body.id,
      webhooks: delivery.id,
      taskId: task.id,
      userTaskId: userTask.id,
      version: '1',
    };

    const spec = (await (
      await fetch(`${t.app.restServer.url}/openapi.json`)
    ).json()) as OpenApiDocument;
    const requests = generateRequests(spec, {
      pathValue: (route, name) =>
        name === 'id' ? ids[route.split('/')[1]] : ids[name],
      headers: (_route, operation) => ({
        authorization: admin.Authorization,
        ...((operation.parameters ?? []).some(p => p.name === 'x-api-key')
          ? creds
          : {}),
      }),
    });

    // Every table of the service (a checksum each) and the engine's
    // deployments and instances of this deployment's tenant.
    const tables = (
      await pg.query<{name: string}>(
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1`,
      )
    ).rows.map(r => r.name);
    const checksums = tables
      .map(
        name =>
          `SELECT '${name}' AS t, count(*)::int AS n,
                  coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h
             FROM main."${name}" x`,
      )
      .join(' UNION ALL ');
    const snapshot = async () => {
      const [rows, deployments, instances] = await Promise.all([
        pg.query(checksums),
        camunda<{count: number}>(`/deployment/count?tenantIdIn=${db.name}`),
        camunda<{count: number}>(
          `/process-instance/count?tenantIdIn=${db.name}`,
        ),
      ]);
      return JSON.stringify({
        tables: rows.rows,
        deployments: deployments.count,
        instances: instances.count,
      });
    };
    const settled = async () => {
      let last = await snapshot();
      for (let i = 0; i < 40; i++) {
        await new Promise(r => setTimeout(r, 50));
        const next = await snapshot();
        if (next === last) return next;
        last = next;
      }
      return last;
    };

    const base = new URL(String(t.app.restServer.url));
    const table = new Map<string, Record<StatusClass | 'tried', number>>();
    const failures: string[] = [];
    const texts: string[] = [];
    const started = Date.now();
    let state = await settled();
    for (const request of requests) {
      const answer = await send(base, request);
      const key = `${request.method} ${request.route}`;
      const row = table.get(key) ?? {
        tried: 0,
        '2xx': 0,
        '3xx': 0,
        '4xx': 0,
        '5xx': 0,
      };
      row.tried++;
      const statusClass = `${Math.floor(answer.status / 100)}xx` as StatusClass;
      row[statusClass]++;
      table.set(key, row);
      texts.push(answer.text, JSON.stringify(answer.headers));
      const what = `${key} [${request.label}] -> ${answer.status} ${answer.text.slice(0, 200)}`;
      if (answer.status >= 500) {
        failures.push(`5xx: ${what}`);
        state = await settled();
      } else if (answer.status < 400) {
        if (request.mustRefuse) failures.push(`accepted: ${what}`);
        state = await settled();
      } else {
        const after = await snapshot();
        if (after !== state) {
          failures.push(`changed a table or the engine: ${what}`);
          state = await settled();
        }
        if (/"code":"INVALID_VALUE"/.test(answer.text)) {
          failures.push(`refused only by the database: ${what}`);
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;

    const lines = [
      '',
      `  Fuzz: ${requests.length} requests on ${table.size} operations in ${seconds.toFixed(1)} s`,
      `  ${'operation'.padEnd(58)} ${'tried'.padStart(5)} ${'2xx'.padStart(5)} ${'3xx'.padStart(5)} ${'4xx'.padStart(5)} ${'5xx'.padStart(5)}`,
      ...[...table.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(
          ([key, r]) =>
            `  ${key.padEnd(58)} ${String(r.tried).padStart(5)} ${String(r['2xx']).padStart(5)} ${String(r['3xx']).padStart(5)} ${String(r['4xx']).padStart(5)} ${String(r['5xx']).padStart(5)}`,
        ),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');

    expect(failures.slice(0, 30)).to.eql([]);
    // Every operation of the document was tried.
    const operations = Object.values(spec.paths).reduce(
      (n, ops) => n + Object.keys(ops).length,
      0,
    );
    expect(table.size).to.equal(operations);

    // No secret in any answer or anything logged: the client secret (shown
    // only when its app was created, before the run), the JWT secret and
    // the key that encrypts client secrets.
    // The service logged the run (so the search below reads real lines).
    expect(serviceLog.lines.length).to.be.above(0);
    const everything = [...texts, ...logs.lines, ...serviceLog.lines].join(
      '\n',
    );
    for (const secret of [apiSecret, TEST_JWT_SECRET, TEST_SECRET_KEY.key]) {
      expect(everything.includes(secret)).to.be.false();
    }
  });
});
