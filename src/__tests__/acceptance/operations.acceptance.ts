import {ChildProcess, spawn} from 'child_process';
import {expect} from '@loopback/testlab';
import {readFileSync} from 'fs';
import path from 'path';
import {eventually} from '../fixtures/app';
import {assertCamundaUp} from '../fixtures/camunda';
import {PG_ADMIN, pgQuery} from '../fixtures/database';
import {freePort} from '../fixtures/services';

const ROOT = path.resolve(__dirname, '../../..');
// Plain JavaScript helpers of the repository, as a user runs them.
const {runWalkthrough} = require(path.join(ROOT, 'scripts', 'demo.js')) as {
  runWalkthrough(options: {
    baseUrl: string;
    token?: string;
    log: (line: string) => void;
  }): Promise<{task: {id: string; status: string}}>;
};
const {devToken} = require(path.join(ROOT, 'scripts', 'dev-token.js')) as {
  devToken(options?: {secret?: string; userId?: string}): string;
};

const JWT_SECRET = 'operations-acceptance-jwt-secret';
const METRICS_TOKEN = 'operations-acceptance-metrics-token';

/** The example app as a child process, as `npm start` runs it after its set-up. */
class ExampleApp {
  readonly stdout: string[] = [];
  stderr = '';
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      ['sandbox/task-example/dist/index.js'],
      {cwd: ROOT, env: {...this.env, PORT: String(this.port)}},
    );
    this.child = child;
    this.exited = new Promise(resolve => child.once('exit', resolve));
    let partial = '';
    child.stdout!.on('data', chunk => {
      const text = partial + String(chunk);
      const lines = text.split('\n');
      partial = lines.pop()!;
      this.stdout.push(...lines.filter(Boolean));
    });
    child.stderr!.on('data', chunk => (this.stderr += chunk));
    await eventually(
      async () =>
        child.exitCode === null &&
        (await fetch(`${this.baseUrl}/ready`)).status === 200,
      `the example app to be ready on ${this.baseUrl} (output: ${this.stdout.slice(-5).join('\n')}${this.stderr})`,
      90000,
      200,
    );
  }

  /** SIGTERM; resolves with the exit code. */
  async terminate(): Promise<number | null> {
    if (this.child?.exitCode === null) this.child.kill('SIGTERM');
    return this.exited ?? null;
  }

  records(): Record<string, unknown>[] {
    return this.stdout.map(line => JSON.parse(line));
  }
}

function environment(database: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOST: '127.0.0.1',
    DB_HOST: PG_ADMIN.host,
    DB_PORT: String(PG_ADMIN.port),
    DB_USER: PG_ADMIN.user,
    DB_DATABASE: database,
    TASK_INCOMING: 'http',
    TASK_OUTGOING: 'http',
    JWT_SECRET,
    METRICS_TOKEN,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'debug',
    NODE_ENV: 'production',
    // The walkthrough's webhook receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  };
}

async function ensureDatabase(env: NodeJS.ProcessEnv): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const run = spawn(process.execPath, ['scripts/ensure-database.js'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    run.on('exit', code =>
      code === 0
        ? resolve()
        : reject(new Error(`ensure-database exited ${code}`)),
    );
  });
}

/** Sample values of one metric, by their label text. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  const pattern = new RegExp(`^${name}(\\{.*\\})? (\\S+)$`, 'gm');
  for (const match of text.matchAll(pattern)) {
    found.set(match[1] ?? '', Number(match[2]));
  }
  return found;
}

function sum(text: string, name: string, labels: RegExp = /.*/): number {
  let total = 0;
  for (const [key, value] of samples(text, name)) {
    if (labels.test(key)) total += value;
  }
  return total;
}

describe('Operating the example app: metrics and logs of the walkthrough, SIGTERM under load', function () {
  this.timeout(300000);
  const database = `task_operations_${process.pid}`;
  const env = environment(database);

  before(async () => {
    await assertCamundaUp();
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await ensureDatabase(env);
  });
  after(async () => {
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  describe('the walkthrough', () => {
    let app: ExampleApp;
    const token = devToken({secret: JWT_SECRET, userId: 'operator'});

    before(async () => {
      app = new ExampleApp(await freePort(), env);
      await app.start();
    });
    after(async () => {
      expect(await app.terminate()).to.equal(0);
    });

    async function scrape(): Promise<string> {
      const res = await fetch(`${app.baseUrl}/metrics`, {
        headers: {authorization: `Bearer ${METRICS_TOKEN}`},
      });
      expect(res.status).to.equal(200);
      return res.text();
    }

    it('moves the metrics, logs JSON lines that follow one event with its ids, and logs no secret', async () => {
      expect((await fetch(`${app.baseUrl}/metrics`)).status).to.equal(401);
      const before = await scrape();
      const {task} = await runWalkthrough({
        baseUrl: app.baseUrl,
        token,
        log: () => {},
      });
      expect(task.status).to.equal('completed');
      // The last webhook was posted; its attempt is recorded right after.
      const after = await eventually(async () => {
        const text = await scrape();
        return sum(text, 'task_service_webhook_deliveries_total', /delivered/) -
          sum(before, 'task_service_webhook_deliveries_total', /delivered/) >=
          4
          ? text
          : undefined;
      }, 'four delivered webhooks in the metrics');
      const moved = (name: string, labels?: RegExp) =>
        sum(after, name, labels) - sum(before, name, labels);
      expect(
        moved(
          'task_service_events_received_total',
          /source="demo",key="order\.received\./,
        ),
      ).to.equal(1);
      expect(moved('task_service_tasks_created_total')).to.equal(1);
      expect(moved('task_service_tasks_completed_total')).to.equal(1);
      expect(
        moved('task_service_commands_run_total', /topic="create-tasks"/),
      ).to.equal(1);
      expect(
        moved('task_service_commands_run_total', /topic="end-task"/),
      ).to.equal(1);
      expect(moved('task_service_commands_failed_total')).to.equal(0);
      expect(
        moved(
          'task_service_webhook_delivery_duration_seconds_count',
          /delivered/,
        ),
      ).to.be.aboveOrEqual(4);
      expect(
        moved(
          'task_service_http_request_duration_seconds_count',
          /route="\/events\/trigger",status="204"/,
        ),
      ).to.equal(1);
      expect(
        moved(
          'task_service_http_request_duration_seconds_count',
          /route="\/tasks\/\{taskId\}\/user-tasks\/\{userTaskId\}\/complete",status="204"/,
        ),
      ).to.equal(2);

      // Every line is JSON.
      const records = app.records();
      expect(records.length).to.be.above(10);

      // One event's path: the request, the event, its workflow, the commands.
      const handled = records.find(
        r =>
          r.msg === 'Event handled' &&
          String(r.eventKey).startsWith('order.received.'),
      )!;
      expect(handled).to.be.ok();
      expect(handled).to.have.properties(['requestId', 'eventId', 'eventKey']);
      const started = records.find(
        r =>
          r.msg === 'Workflow started for the event' &&
          r.eventId === handled.eventId,
      )!;
      expect(started.requestId).to.equal(handled.requestId);
      expect(started.workflowInstanceId).to.be.a.String();
      const request = records.find(
        r => r.msg === 'request' && r.requestId === handled.requestId,
      )!;
      expect(request).to.containDeep({
        method: 'POST',
        path: '/events/trigger',
        status: 204,
      });
      const created = records.find(
        r =>
          r.msg === 'Command completed' &&
          r.topic === 'create-tasks' &&
          r.workflowInstanceId === started.workflowInstanceId,
      )!;
      expect(created.taskIds).to.eql([task.id]);
      expect(created.externalTaskId).to.be.a.String();
      const ended = records.find(
        r =>
          r.msg === 'Command completed' &&
          r.topic === 'end-task' &&
          r.taskId === task.id,
      )!;
      expect(ended.workflowInstanceId).to.be.a.String();
      expect(
        records.some(
          r =>
            r.msg === 'Webhook delivered' &&
            r.eventKey === 'task-completed' &&
            r.taskId === task.id,
        ),
      ).to.be.true();

      // No secret anywhere: tokens, the client app's secret, signatures.
      const [{api_secret: apiSecret}] = await pgQuery<{api_secret: string}>(
        {...PG_ADMIN, database},
        'SELECT api_secret FROM main.client_apps ORDER BY created_on DESC LIMIT 1',
      );
      const output = app.stdout.join('\n') + app.stderr;
      for (const secret of [token, apiSecret, METRICS_TOKEN, JWT_SECRET]) {
        expect(output.includes(secret)).to.be.false();
      }
      expect(output).to.not.match(/x-task-signature"\s*:\s*"[0-9a-f]{64}/);
      expect(output).to.not.match(/[Bb]earer [A-Za-z0-9._-]{20,}/);
    });
  });

  describe('SIGTERM during a burst of events', () => {
    const token = devToken({secret: JWT_SECRET, userId: 'burst'});
    const auth = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    };
    const run = `${process.pid}`;
    const eventKey = `burst.${run}`;
    /** At most this many events: the burst ends at the first refusal. */
    const limit = 2000;

    async function call(
      baseUrl: string,
      method: string,
      route: string,
      body: object,
      headers: Record<string, string> = {},
    ): Promise<Response> {
      return fetch(`${baseUrl}${route}`, {
        method,
        headers: {...auth, ...headers},
        body: JSON.stringify(body),
      });
    }

    function trigger(baseUrl: string, i: number): Promise<Response> {
      return call(
        baseUrl,
        'POST',
        '/events/trigger',
        {
          key: eventKey,
          source: 'burst',
          payload: {
            tasks: {
              values: [{key: `${eventKey}.${i}`, name: `Burst task ${i}`}],
            },
          },
        },
        {'idempotency-key': `${eventKey}.${i}`},
      );
    }

    it("turns not ready first, drains, exits 0, and after a restart and the clients' retries every event is stored once and every task made once", async () => {
      const first = new ExampleApp(await freePort(), {
        ...env,
        // Long enough to see /ready answer 503 while requests are still
        // served, short enough that the burst outlasts it and meets refusals.
        SHUTDOWN_DRAIN_DELAY_MS: '400',
      });
      await first.start();
      const bpmnFile = readFileSync(
        path.join(ROOT, 'sandbox/task-example/workflows/order-received.bpmn'),
        'utf8',
      );
      const deployed = await call(first.baseUrl, 'POST', '/workflows', {
        name: `burst-${run}`,
        bpmnFile,
      });
      expect(deployed.status).to.equal(200);
      const {externalIdentifier} = (await deployed.json()) as {
        externalIdentifier: string;
      };
      const mapped = await call(first.baseUrl, 'POST', '/events/mapping', {
        eventKey,
        workflowKey: externalIdentifier,
      });
      expect(mapped.status).to.equal(200);

      // Five clients send the events one after another; SIGTERM once ten
      // are answered. They go on until the stopping app refuses one (a 503
      // or a refused connection), however fast it answers the rest.
      const outcomes = new Map<number, number | string>();
      let answered = 0;
      let refused = false;
      let terminated: Promise<number | null> | undefined;
      let readyDuringDrain: number | undefined;
      const next = {i: 0};
      const client = async () => {
        while (!refused && next.i < limit) {
          const i = next.i++;
          try {
            const res = await trigger(first.baseUrl, i);
            outcomes.set(i, res.status);
            if (res.status !== 204) refused = true;
          } catch (err) {
            outcomes.set(i, (err as Error).message);
            refused = true;
          }
          if (++answered === 10) {
            terminated = first.terminate();
            await new Promise(r => setTimeout(r, 200));
            readyDuringDrain = (await fetch(`${first.baseUrl}/ready`)).status;
          }
        }
      };
      await Promise.all([client(), client(), client(), client(), client()]);
      const count = next.i;
      expect(await terminated).to.equal(0);
      expect(readyDuringDrain).to.equal(503);
      const records = first.records();
      const drained = records.findIndex(
        r => r.msg === 'Shutdown drained the service',
      );
      const notReady = records.findIndex(
        r => r.msg === 'Shutting down: not ready any more',
      );
      expect(notReady).to.be.within(0, drained);
      // Some were answered before the stop, some refused during it.
      expect(refused).to.be.true();
      const ok = [...outcomes.values()].filter(s => s === 204).length;
      expect(ok).to.be.within(10, count - 1);
      for (const status of outcomes.values()) {
        // Refused connections and 503s are what a client retries; nothing else.
        if (typeof status === 'number')
          expect([204, 503]).to.containEql(status);
      }

      // The clients retry every event, with the same keys, on the restarted app.
      const second = new ExampleApp(first.port, env);
      await second.start();
      try {
        for (let i = 0; i < count; i++) {
          expect((await trigger(second.baseUrl, i)).status).to.equal(204);
        }
        const db = {...PG_ADMIN, database};
        const [{events}] = await pgQuery<{events: string}>(
          db,
          'SELECT count(*) AS events FROM main.events WHERE key = $1',
          [eventKey],
        );
        expect(Number(events)).to.equal(count);
        const tasks = await eventually(
          async () => {
            const rows = await pgQuery<{key: string; n: string}>(
              db,
              `SELECT key, count(*) AS n FROM main.tasks WHERE key LIKE $1 GROUP BY key`,
              [`${eventKey}.%`],
            );
            return rows.length === count ? rows : undefined;
          },
          `${count} burst tasks`,
          90000,
          500,
        );
        expect(tasks.every(row => Number(row.n) === 1)).to.be.true();
        await eventually(
          async () => {
            const [{pending}] = await pgQuery<{pending: string}>(
              db,
              'SELECT count(*) AS pending FROM main.outbox_events WHERE published_on IS NULL',
            );
            return Number(pending) === 0;
          },
          'the outbox to be published',
          30000,
          200,
        );
      } finally {
        expect(await second.terminate()).to.equal(0);
      }
    });
  });
});
