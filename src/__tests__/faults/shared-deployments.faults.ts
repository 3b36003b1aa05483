import {expect} from '@loopback/testlab';
import {spawn} from 'child_process';
import {randomBytes} from 'crypto';
import {mkdirSync, readFileSync} from 'fs';
import {Kafka, logLevel, Producer} from 'kafkajs';
import {createServer} from 'net';
import {tmpdir} from 'os';
import path from 'path';
import {eventually} from '../fixtures/app';
import {PG_ADMIN, pgQuery} from '../fixtures/database';
import {ExampleAppProcess, freePorts} from '../fixtures/example-app-process';
import {OrderedReceiver, EventBody} from '../fixtures/ordered-receiver';
import {
  assertJava,
  freePort,
  ROOT,
  services,
  ServiceName,
} from '../fixtures/services';
import {
  ALL_PERMISSIONS,
  TEST_JWT_ISSUER,
  TEST_JWT_SECRET,
  tokenWith,
} from '../fixtures/tokens';
import {verifySignature} from '../fixtures/webhook-receiver';
import {
  Figure,
  Figures,
  KafkaRecord,
  labelOf,
  Milestone,
  orderViolations,
  readWholeTopic,
  sleep,
  storiesAt,
  SUBSCRIBED_KEYS,
  TASK_EVENTS,
  tasksConcerned,
} from './fault-helpers';

/*
 * Issue 16, point 7: three instances of the example app on one database,
 * one engine and one broker shared with two other deployments, while
 * instances are killed, the webhook receiver fails, the engine and the
 * broker restart. See "Sharing an engine, a database and a broker" in the
 * README for what the figures printed at the end stand for.
 */

const RUN = `${process.pid}${randomBytes(2).toString('hex')}`;
/** Events sent to each deployment. */
const SIZE = {A: 120, B: 40, C: 60} as const;
const TASK_KEY = 'review-order';
const EVENT_KEY = 'order.received';
const TOKEN = tokenWith(ALL_PERMISSIONS, {id: 'fault-client'});
const AUTH = {authorization: `Bearer ${TOKEN}`};
/** How long a client keeps retrying one request across instances. */
const CLIENT_DEADLINE_MS = 8 * 60 * 1000;
/** How long the faults may take to settle once the last one is over. */
const QUIESCENCE_TIMEOUT_MS = 8 * 60 * 1000;
const WORKFLOWS = path.join(ROOT, 'sandbox', 'task-example', 'workflows');

type DeploymentName = 'A' | 'B' | 'C';

interface Subscriber {
  label: string;
  receiver: OrderedReceiver;
  secret: string;
}

interface Deployment {
  name: DeploymentName;
  database: string;
  instances: ExampleAppProcess[];
  subscribers: Subscriber[];
  /** The key incoming events carry (C's: its input topic). */
  eventKey: string;
}

/** One answer of the app, or why there was none. */
interface Answer {
  status: number;
  text: string;
}

/** What the clients did and saw, per deployment. */
interface ClientTally {
  requests: number;
  retries: number;
  duplicatesSent: number;
  completions: number;
  completionsRepeated: number;
  unexpected: string[];
}

function newTally(): ClientTally {
  return {
    requests: 0,
    retries: 0,
    duplicatesSent: 0,
    completions: 0,
    completionsRepeated: 0,
    unexpected: [],
  };
}

function db(deployment: Deployment) {
  return {...PG_ADMIN, database: deployment.database};
}

async function count(
  deployment: Deployment,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  const [row] = await pgQuery<{n: string}>(db(deployment), sql, params);
  return Number(row.n);
}

function taskName(deployment: DeploymentName, n: number): string {
  return `${deployment}-${n}`;
}

describe('Faults: three instances of one deployment beside two others on one engine, database server and broker', function () {
  // Starting an engine and six app instances takes minutes on two loaded cores.
  this.timeout(30 * 60 * 1000);

  const logDir = path.join(tmpdir(), `task-service-faults-${RUN}`);
  const started = Date.now();
  const timeline: {at: number; what: string}[] = [];
  const note = (what: string) => {
    timeline.push({at: Date.now() - started, what});
  };
  let enginePort = 0;
  let brokerPort = 0;
  let engineUrl = '';
  const engineEnv: Record<string, string> = {};
  const brokerEnv: Record<string, string> = {};
  const servicesUp: ServiceName[] = [];
  const inputTopic = `faults-${RUN}.events`;
  const outputTopic = `faults-${RUN}.output`;
  let kafka: Kafka;
  let producer: Producer | undefined;
  const deployments: Record<DeploymentName, Deployment> = {
    A: {
      name: 'A',
      database: `task_faults_a_${RUN}`,
      instances: [],
      subscribers: [],
      eventKey: EVENT_KEY,
    },
    B: {
      name: 'B',
      database: `task_faults_b_${RUN}`,
      instances: [],
      subscribers: [],
      eventKey: EVENT_KEY,
    },
    C: {
      name: 'C',
      database: `task_faults_c_${RUN}`,
      instances: [],
      subscribers: [],
      eventKey: inputTopic,
    },
  };
  const tallies: Record<DeploymentName, ClientTally> = {
    A: newTally(),
    B: newTally(),
    C: newTally(),
  };
  const restarts = {
    instancesKilled: 0,
    instancesRestarted: 0,
    engine: 0,
    broker: 0,
    receiverPhases: [] as string[],
  };
  let killedAt = 0;
  let lastFaultOverAt = 0;
  let quiescentAt = 0;
  let quiescenceError: Error | undefined;
  /** Messages produced to C's input topic, by `n`. */
  const produced = new Map<number, number>();
  let inputRecords: KafkaRecord[] = [];
  let outputRecords: KafkaRecord[] = [];
  const figures = new Figures(['A', 'B', 'C']);
  const runFigures = new Figures(['run']);
  const runFigure = (row: string, value: Figure) =>
    runFigures.set(row, {run: value});

  // ---- set-up -------------------------------------------------------------

  function appEnv(
    deployment: Deployment,
    extra: NodeJS.ProcessEnv,
  ): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      DB_HOST: PG_ADMIN.host,
      DB_PORT: String(PG_ADMIN.port),
      DB_USER: PG_ADMIN.user,
      DB_PASSWORD: PG_ADMIN.password ?? '',
      DB_DATABASE: deployment.database,
      CAMUNDA_URL: engineUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ISSUER: TEST_JWT_ISSUER,
      TASK_INCOMING: 'http',
      TASK_OUTGOING: 'http',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      // Instances of one deployment share the keys of client secrets.
      CLIENT_SECRET_KEYS: `faults-${deployment.name}:${randomKey(deployment.name)}`,
      METRICS_TOKEN: `faults-metrics-${RUN}`,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...extra,
    };
    // Left to its default, the database name: one tenant per deployment.
    delete env.CAMUNDA_TENANT_ID;
    return env;
  }

  /** The same key for every instance of a deployment, another per deployment. */
  const keys = new Map<string, string>();
  function randomKey(name: string): string {
    if (!keys.has(name)) keys.set(name, randomBytes(32).toString('base64'));
    return keys.get(name)!;
  }

  async function ensureDatabase(env: NodeJS.ProcessEnv): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const run = spawn(process.execPath, ['scripts/ensure-database.js'], {
        cwd: ROOT,
        env,
      });
      run.stdout.on('data', c => (output += c));
      run.stderr.on('data', c => (output += c));
      run.on('exit', code =>
        code === 0
          ? resolve()
          : reject(new Error(`ensure-database exited ${code}: ${output}`)),
      );
    });
  }

  async function twoFreePorts(): Promise<number> {
    // The broker's controller listens on the next port.
    for (;;) {
      const port = await freePort();
      const next = await new Promise<boolean>(resolve => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen(port + 1, '127.0.0.1', () =>
          server.close(() => resolve(true)),
        );
      });
      if (next) return port;
    }
  }

  /** A call with the test's token; connection failures come back as status 0. */
  async function call(
    baseUrl: string,
    method: string,
    route: string,
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    try {
      const res = await fetch(`${baseUrl}${route}`, {
        method,
        headers: {
          ...AUTH,
          ...(body ? {'content-type': 'application/json'} : {}),
          ...headers,
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(20000),
      });
      return {status: res.status, text: await res.text()};
    } catch (err) {
      return {status: 0, text: (err as Error).message};
    }
  }

  /**
   * What a client does: sends the request to one instance and, when it gets
   * no answer, a 5xx or a 429, retries on the next one, backing off.
   */
  async function callAny(
    deployment: Deployment,
    first: number,
    method: string,
    route: string,
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const tally = tallies[deployment.name];
    const deadline = Date.now() + CLIENT_DEADLINE_MS;
    const {instances} = deployment;
    for (let attempt = 0; ; attempt++) {
      const instance = instances[(first + attempt) % instances.length];
      tally.requests++;
      const answer = await call(instance.baseUrl, method, route, body, headers);
      if (answer.status !== 0 && answer.status < 500 && answer.status !== 429)
        return answer;
      if (Date.now() > deadline) {
        throw new Error(
          `${method} ${route} on ${deployment.name}: no answer for ${CLIENT_DEADLINE_MS} ms (last: ${answer.status} ${answer.text})`,
        );
      }
      tally.retries++;
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
    }
  }

  async function setUpDeployment(
    deployment: Deployment,
    receivers: string[],
  ): Promise<void> {
    const api = async (
      method: string,
      route: string,
      body?: object,
      headers?: Record<string, string>,
    ) => {
      const answer = await callAny(deployment, 0, method, route, body, headers);
      if (answer.status >= 300)
        throw new Error(
          `${deployment.name}: ${method} ${route} answered ${answer.status} ${answer.text}`,
        );
      return answer.text ? JSON.parse(answer.text) : undefined;
    };
    const deploy = async (name: string) =>
      (
        (await api('POST', '/workflows', {
          name,
          bpmnFile: readFileSync(path.join(WORKFLOWS, `${name}.bpmn`), 'utf8'),
        })) as {externalIdentifier: string}
      ).externalIdentifier;
    const parent = await deploy('order-received');
    const child = await deploy('review-task');
    await api('POST', '/events/mapping', {
      eventKey: deployment.eventKey,
      workflowKey: parent,
    });
    await api('POST', '/tasks/mapping', {
      taskKey: TASK_KEY,
      workflowKey: child,
    });
    for (const label of receivers) {
      const app = (await api('POST', '/client-apps', {
        clientName: `faults-${label}`,
      })) as {apiKey: string; apiSecret: string};
      const receiver = await new OrderedReceiver().start();
      for (const key of SUBSCRIBED_KEYS) {
        await api(
          'POST',
          '/webhooks/subscribe',
          {url: receiver.url, key},
          {'x-api-key': app.apiKey, 'x-api-secret': app.apiSecret},
        );
      }
      deployment.subscribers.push({label, receiver, secret: app.apiSecret});
    }
  }

  before(async function () {
    mkdirSync(logDir, {recursive: true});
    await assertJava();
    await pgQuery(PG_ADMIN, 'SELECT 1');

    // An engine and a broker of this test's own, on free ports.
    enginePort = await freePort();
    brokerPort = await twoFreePorts();
    engineUrl = `http://127.0.0.1:${enginePort}/engine-rest`;
    Object.assign(engineEnv, {
      CAMUNDA_PORT: String(enginePort),
      CAMUNDA_DB_HOST: PG_ADMIN.host,
      CAMUNDA_DB_PORT: String(PG_ADMIN.port),
      CAMUNDA_DB_USER: PG_ADMIN.user,
      CAMUNDA_DB_PASSWORD: PG_ADMIN.password ?? '',
    });
    Object.assign(brokerEnv, {KAFKA_PORT: String(brokerPort)});
    await services('reset', 'camunda', engineEnv);
    await services('reset', 'kafka', brokerEnv);
    servicesUp.push('camunda', 'kafka');
    await Promise.all([
      services('up', 'camunda', engineEnv),
      services('up', 'kafka', brokerEnv),
    ]);
    note(`engine up on ${enginePort}, broker up on ${brokerPort}`);

    kafka = new Kafka({
      clientId: `faults-${RUN}`,
      brokers: [`127.0.0.1:${brokerPort}`],
      logLevel: logLevel.NOTHING,
      retry: {retries: 8, initialRetryTime: 300},
    });
    const admin = kafka.admin();
    await admin.connect();
    // Two partitions each, so that both instances of C consume and a task's
    // events must keep to its partition.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {topic: inputTopic, numPartitions: 2},
        {topic: outputTopic, numPartitions: 2},
      ],
    });
    await admin.disconnect();

    const {A, B, C} = deployments;
    const envs: Record<DeploymentName, NodeJS.ProcessEnv> = {
      A: appEnv(A, {}),
      B: appEnv(B, {}),
      C: appEnv(C, {
        TASK_INCOMING: 'kafka',
        TASK_OUTGOING: 'kafka',
        KAFKA_SERVER: `127.0.0.1:${brokerPort}`,
        KAFKA_CLIENT_ID: `faults-c-${RUN}`,
        // One consumer group per deployment.
        KAFKA_GROUP_ID: C.database,
        KAFKA_TOPICS: inputTopic,
        KAFKA_OUTPUT_TOPIC: outputTopic,
      }),
    };
    for (const deployment of [A, B, C]) {
      await pgQuery(
        PG_ADMIN,
        `DROP DATABASE IF EXISTS ${deployment.database} WITH (FORCE)`,
      );
      await ensureDatabase(envs[deployment.name]);
    }
    const sizes: Record<DeploymentName, number> = {A: 3, B: 1, C: 2};
    const ports = await freePorts(6);
    for (const deployment of [A, B, C]) {
      for (let i = 1; i <= sizes[deployment.name]; i++) {
        const name = `${deployment.name}${i}`;
        deployment.instances.push(
          new ExampleAppProcess(
            name,
            ports.pop()!,
            envs[deployment.name],
            path.join(logDir, `${name}.log`),
          ),
        );
      }
    }
    await Promise.all(
      [A, B, C].flatMap(d => d.instances.map(instance => instance.start())),
    );
    note('six instances ready');
    await setUpDeployment(A, ['A-flaky', 'A-steady']);
    await setUpDeployment(B, ['B']);
    await setUpDeployment(C, []);
    note('workflows deployed and mapped, webhooks subscribed');

    await runScenario();
    await collect();
    console.log(
      [
        '',
        `Fault test ${RUN}: figures per deployment (A: 3 instances, B: 1, C: 2 on Kafka)`,
        figures.render(),
        '',
        runFigures.render(),
        '',
        'Timeline (s since the start of the set-up):',
        ...timeline.map(
          t => `  ${(t.at / 1000).toFixed(1).padStart(7)}  ${t.what}`,
        ),
        `Logs of the instances: ${logDir}`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    const failures: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (err) {
        failures.push(err);
      }
    };
    const stops: Promise<unknown>[] = [];
    for (const deployment of Object.values(deployments)) {
      for (const instance of deployment.instances)
        stops.push(instance.terminate());
      for (const {receiver} of deployment.subscribers)
        stops.push(receiver.stop());
    }
    for (const result of await Promise.allSettled(stops))
      if (result.status === 'rejected') failures.push(result.reason);
    if (producer) await attempt(() => producer!.disconnect());
    for (const name of servicesUp) {
      const env = name === 'camunda' ? engineEnv : brokerEnv;
      await attempt(() => services('down', name, env));
      await attempt(() => services('reset', name, env));
    }
    for (const deployment of Object.values(deployments)) {
      await attempt(() =>
        pgQuery(
          PG_ADMIN,
          `DROP DATABASE IF EXISTS ${deployment.database} WITH (FORCE)`,
        ),
      );
    }
    if (failures.length)
      throw new Error(`Cleaning up failed: ${failures.join('; ')}`);
  });

  // ---- the scenario -------------------------------------------------------

  /** Events of A whose first request was answered 2xx. */
  let answeredA = 0;
  const engineRestartBegun = new Milestone();
  const brokerRestartBegun = new Milestone();
  let streamsDone = false;

  async function untilA(fraction: number): Promise<void> {
    while (answeredA < SIZE.A * fraction && !streamsDone) await sleep(50);
  }

  /** One incoming event over HTTP with its Idempotency-Key, as a client sends it. */
  async function sendEvent(deployment: Deployment, n: number): Promise<void> {
    const tally = tallies[deployment.name];
    const body = {
      key: deployment.eventKey,
      source: 'faults',
      description: `Fault test event ${n}`,
      payload: {
        n,
        tasks: {
          values: [{key: TASK_KEY, name: taskName(deployment.name, n)}],
        },
      },
    };
    const headers = {'idempotency-key': `${deployment.name}-${RUN}-${n}`};
    const send = (first: number) =>
      callAny(deployment, first, 'POST', '/events/trigger', body, headers);
    const check = (answer: Answer) => {
      if (answer.status !== 204)
        tally.unexpected.push(
          `trigger ${n}: ${answer.status} ${answer.text.slice(0, 200)}`,
        );
    };
    if (n % 7 === 3) {
      // A retry racing the first attempt on another instance.
      tally.duplicatesSent++;
      (await Promise.all([send(n), send(n + 1)])).forEach(check);
    } else {
      check(await send(n));
    }
    if (deployment.name === 'A') answeredA++;
    if (n % 5 === 0) {
      // The answer was lost: the client sends it again, elsewhere.
      tally.duplicatesSent++;
      check(await send(n + 1));
    }
  }

  async function httpStream(
    deployment: Deployment,
    workers: number,
    gate: (n: number) => Promise<void>,
  ): Promise<void> {
    let next = 0;
    const size = SIZE[deployment.name];
    await Promise.all(
      Array.from({length: workers}, async () => {
        while (next < size) {
          const n = next++;
          await gate(n);
          await sendEvent(deployment, n);
          await sleep(100);
        }
      }),
    );
    note(`${deployment.name}: all ${size} events answered`);
  }

  /** C's events are produced to its input topic; a failed send is sent again. */
  async function kafkaStream(): Promise<void> {
    const tally = tallies.C;
    for (let n = 0; n < SIZE.C; n++) {
      await untilA(n / SIZE.C);
      for (let attempt = 0; ; attempt++) {
        tally.requests++;
        try {
          producer ??= kafka.producer();
          await producer.connect();
          await producer.send({
            topic: inputTopic,
            messages: [
              {
                key: `c-${n}`,
                value: JSON.stringify({
                  n,
                  tasks: {values: [{key: TASK_KEY, name: taskName('C', n)}]},
                }),
              },
            ],
          });
          produced.set(n, (produced.get(n) ?? 0) + 1);
          break;
        } catch (err) {
          tally.retries++;
          if (attempt > 200)
            throw new Error(`producing event ${n} to C failed: ${err}`);
          // A fresh producer for the next try; the broken one may not even
          // disconnect cleanly, and its error says nothing new.
          const broken = producer;
          producer = undefined;
          await broken?.disconnect().catch(() => undefined);
          await sleep(500);
        }
      }
    }
    note(`C: all ${SIZE.C} events produced`);
  }

  /**
   * Completes every pending user task over HTTP on some instance, retrying
   * on another when one does not answer; some completions are sent twice at
   * once, as a client whose first try timed out does.
   */
  async function completer(
    deployment: Deployment,
    done: () => boolean,
  ): Promise<void> {
    const tally = tallies[deployment.name];
    const handled = new Set<string>();
    let k = 0;
    const complete = async (taskId: string, id: string) => {
      const route = `/tasks/${taskId}/user-tasks/${id}/complete`;
      const n = k++;
      const tries =
        n % 6 === 0
          ? [
              callAny(deployment, n, 'PATCH', route),
              callAny(deployment, n + 1, 'PATCH', route),
            ]
          : [callAny(deployment, n, 'PATCH', route)];
      if (tries.length > 1) tally.completionsRepeated++;
      const answers = await Promise.all(tries);
      tally.completions++;
      for (const answer of answers) {
        const repeated =
          answer.status === 400 && /already completed/.test(answer.text);
        if (answer.status !== 204 && !repeated)
          tally.unexpected.push(
            `complete ${id}: ${answer.status} ${answer.text.slice(0, 200)}`,
          );
      }
    };
    while (!done()) {
      const pending = await pgQuery<{id: string; task_id: string}>(
        db(deployment),
        `SELECT id, task_id FROM main.user_tasks
          WHERE status = 'pending' AND NOT deleted ORDER BY created_on`,
      );
      const fresh = pending.filter(row => !handled.has(row.id));
      for (const row of fresh) handled.add(row.id);
      // A few at a time, like people at their desks.
      for (let i = 0; i < fresh.length; i += 4) {
        await Promise.all(
          fresh.slice(i, i + 4).map(row => complete(row.task_id, row.id)),
        );
      }
      await sleep(300);
    }
  }

  /** The faults, each once the stream of A has come far enough. */
  async function conductor(): Promise<void> {
    const {A, C} = deployments;
    const [flaky] = A.subscribers;
    const receiver = flaky.receiver;
    // The flaky receiver answers 500 for 15 s after the first webhook, then
    // refuses connections for 15 s, then answers again.
    receiver.answer = () => 500;
    restarts.receiverPhases.push('500');
    const faultsOfReceiver = (async () => {
      await eventually(
        () => receiver.received.length > 0,
        'the first webhook at the flaky receiver',
        5 * 60 * 1000,
        100,
      );
      note('flaky receiver: answering 500');
      await sleep(15000);
      await receiver.stop();
      restarts.receiverPhases.push('refused');
      note('flaky receiver: port closed, connections refused');
      await sleep(15000);
      receiver.answer = () => 204;
      await receiver.start();
      restarts.receiverPhases.push('2xx');
      note('flaky receiver: back, answering 204');
    })();

    await untilA(0.2);
    const killed = [A.instances[1], C.instances[1]];
    killedAt = Date.now();
    await Promise.all(killed.map(instance => instance.kill9()));
    restarts.instancesKilled += killed.length;
    note(`kill -9 of ${killed.map(i => i.name).join(' and ')}`);
    await sleep(5000);
    await Promise.all(killed.map(instance => instance.start()));
    restarts.instancesRestarted += killed.length;
    note(`${killed.map(i => i.name).join(' and ')} restarted`);

    await untilA(0.5);
    note('engine restart begins');
    engineRestartBegun.reach();
    await services('restart', 'camunda', engineEnv);
    restarts.engine++;
    note('engine answers again');

    await untilA(0.75);
    note('broker restart begins');
    brokerRestartBegun.reach();
    await services('restart', 'kafka', brokerEnv);
    restarts.broker++;
    note('broker answers again');

    await faultsOfReceiver;
    lastFaultOverAt = Date.now();
    note('every fault is over');
  }

  /** Everything the deployments owe has happened. */
  async function quiescent(): Promise<boolean> {
    for (const deployment of [deployments.A, deployments.B]) {
      const expected = SIZE[deployment.name];
      const completed = await count(
        deployment,
        `SELECT count(*) AS n FROM main.tasks WHERE status = 'completed'`,
      );
      if (completed < expected) return false;
      const waiting = await count(
        deployment,
        `SELECT count(*) AS n FROM main.webhook_deliveries WHERE status <> 'delivered'`,
      );
      const unpublished = await count(
        deployment,
        'SELECT count(*) AS n FROM main.outbox_events WHERE published_on IS NULL AND discarded_on IS NULL',
      );
      if (waiting || unpublished) return false;
      for (const {receiver} of deployment.subscribers) {
        const acknowledged = new Set(
          receiver.acknowledged().map(h => h.deliveryId),
        );
        if (acknowledged.size < expected * TASK_EVENTS.length) return false;
      }
    }
    const {C} = deployments;
    const completed = await count(
      C,
      `SELECT count(*) AS n FROM main.tasks WHERE status = 'completed'`,
    );
    if (completed < SIZE.C) return false;
    const unpublished = await count(
      C,
      'SELECT count(*) AS n FROM main.outbox_events WHERE published_on IS NULL AND discarded_on IS NULL',
    );
    return unpublished === 0;
  }

  async function runScenario(): Promise<void> {
    const {A, B, C} = deployments;
    let settled = false;
    const completers = [A, B, C].map(d => completer(d, () => settled));
    const streams = Promise.all([
      // However fast the machine, the later events meet the restarts.
      httpStream(A, 3, async n => {
        if (n >= SIZE.A * 0.6) await engineRestartBegun.reached;
        if (n >= SIZE.A * 0.85) await brokerRestartBegun.reached;
      }),
      httpStream(B, 1, n => untilA(n / SIZE.B)),
      kafkaStream(),
    ]).finally(() => (streamsDone = true));
    const firstEventAt = Date.now();
    note('event streams begin');
    try {
      await Promise.all([streams, conductor()]);
    } catch (err) {
      // The completers stop; the error is the scenario's.
      settled = true;
      await Promise.allSettled(completers);
      throw err;
    }
    try {
      await eventually(
        () => quiescent(),
        'every task completed, every event published and every webhook delivered',
        QUIESCENCE_TIMEOUT_MS,
        1000,
      );
      quiescentAt = Date.now();
      note('quiescent');
    } catch (err) {
      quiescenceError = err as Error;
      note(`not quiescent: ${(err as Error).message}`);
    }
    settled = true;
    await Promise.all(completers);
    runFigure(
      'time from the first event to quiescence (s)',
      quiescentAt ? (quiescentAt - firstEventAt) / 1000 : 'never',
    );
    runFigure(
      'time from the end of the last fault to quiescence (s)',
      quiescentAt ? (quiescentAt - lastFaultOverAt) / 1000 : 'never',
    );
  }

  // ---- what happened ------------------------------------------------------

  /** Per deployment: task ids and names, and what the engine holds. */
  const tasksById: Record<DeploymentName, Map<string, string>> = {
    A: new Map(),
    B: new Map(),
    C: new Map(),
  };
  /** Subscriber label -> problems found. */
  const deliveryProblems = new Map<string, string[]>();
  const orderProblems: Record<DeploymentName, string[]> = {
    A: [],
    B: [],
    C: [],
  };
  const storageProblems: Record<DeploymentName, string[]> = {
    A: [],
    B: [],
    C: [],
  };

  async function engineCount(query: string): Promise<number> {
    const res = await fetch(
      `${engineUrl}/history/process-instance/count?${query}`,
    );
    return ((await res.json()) as {count: number}).count;
  }

  async function collect(): Promise<void> {
    inputRecords = await readWholeTopic(kafka, inputTopic);
    outputRecords = await readWholeTopic(kafka, outputTopic);
    const expected = expectedTaskNames();
    for (const deployment of Object.values(deployments))
      await checkStorage(deployment, expected[deployment.name]);
    for (const deployment of [deployments.A, deployments.B])
      await checkWebhooks(deployment);
    await checkKafkaOut();
    runFigure(
      'instances killed -9 / restarted',
      `${restarts.instancesKilled} / ${restarts.instancesRestarted}`,
    );
    runFigure(
      'engine restarts / broker restarts',
      `${restarts.engine} / ${restarts.broker}`,
    );
    runFigure('flaky receiver phases', restarts.receiverPhases.join(' → '));
  }

  /** The name of each task a deployment owes, with how many of it. */
  function expectedTaskNames(): Record<DeploymentName, Map<string, number>> {
    const expectedNames: Record<DeploymentName, Map<string, number>> = {
      A: new Map(),
      B: new Map(),
      C: new Map(),
    };
    for (const name of ['A', 'B'] as const)
      for (let n = 0; n < SIZE[name]; n++)
        expectedNames[name].set(taskName(name, n), 1);
    // C: one task per message on the input topic (a message the producer
    // wrote twice is two events).
    for (const record of inputRecords) {
      const {n} = JSON.parse(record.value) as {n: number};
      const name = taskName('C', n);
      expectedNames.C.set(name, (expectedNames.C.get(name) ?? 0) + 1);
    }
    return expectedNames;
  }

  /**
   * Events stored once, one task per event in its own database, each task
   * completed after its user tasks, its instances in its own tenant.
   */
  async function checkStorage(
    deployment: Deployment,
    expectedNames: Map<string, number>,
  ): Promise<void> {
    const {name} = deployment;
    const problems = storageProblems[name];
    const tally = tallies[name];
    const events = await pgQuery<{n: string; copies: string}>(
      db(deployment),
      `SELECT payload->>'n' AS n, count(*) AS copies FROM main.events GROUP BY 1`,
    );
    const receipts = await count(
      deployment,
      'SELECT count(*) AS n FROM main.event_receipts',
    );
    const stored = events.reduce((sum, e) => sum + Number(e.copies), 0);
    const tasks = await pgQuery<{
      id: string;
      name: string;
      status: string;
      external_id: string | null;
      modified_on: Date;
    }>(
      db(deployment),
      'SELECT id, name, status, external_id, modified_on FROM main.tasks',
    );
    const userTasks = await pgQuery<{
      task_id: string;
      name: string;
      status: string;
      modified_on: Date;
    }>(
      db(deployment),
      'SELECT task_id, name, status, modified_on FROM main.user_tasks WHERE NOT deleted',
    );
    for (const task of tasks) tasksById[name].set(task.id, task.name);
    const byName = new Map<string, number>();
    for (const task of tasks)
      byName.set(task.name, (byName.get(task.name) ?? 0) + 1);
    const wrongDatabase = tasks.filter(t => !expectedNames.has(t.name)).length;
    let duplicateTasks = 0;
    let missingTasks = 0;
    for (const [taskName_, copies] of expectedNames) {
      const found = byName.get(taskName_) ?? 0;
      if (found > copies) duplicateTasks += found - copies;
      if (found < copies) missingTasks += copies - found;
    }
    const eventsExpected = [...expectedNames.values()].reduce(
      (a, b) => a + b,
      0,
    );
    const duplicateEvents = stored - events.length;
    if (stored !== eventsExpected)
      problems.push(`${stored} events stored, ${eventsExpected} sent`);
    if (duplicateEvents && name !== 'C')
      problems.push(`${duplicateEvents} events stored twice`);
    if (receipts !== eventsExpected)
      problems.push(`${receipts} receipts for ${eventsExpected} events`);
    if (duplicateTasks) problems.push(`${duplicateTasks} tasks made twice`);
    if (missingTasks) problems.push(`${missingTasks} events made no task`);
    if (wrongDatabase)
      problems.push(`${wrongDatabase} tasks of another deployment`);
    if (name === 'C') {
      // Each message of the input topic stored once, under its position.
      const receiptIds = new Set(
        (
          await pgQuery<{source_id: string}>(
            db(deployment),
            'SELECT source_id FROM main.event_receipts',
          )
        ).map(r => r.source_id),
      );
      const unstored = inputRecords.filter(
        r =>
          !receiptIds.delete(`kafka:${inputTopic}:${r.partition}:${r.offset}`),
      ).length;
      if (unstored)
        problems.push(`${unstored} messages of the input topic not stored`);
      if (receiptIds.size)
        problems.push(`${receiptIds.size} receipts of no message`);
    }

    // Completed after its user tasks: both done, none after the task.
    const userTasksOf = new Map<string, typeof userTasks>();
    for (const u of userTasks) {
      const list = userTasksOf.get(u.task_id) ?? [];
      list.push(u);
      userTasksOf.set(u.task_id, list);
    }
    // What the outbox says happened to each task, in the order written
    // (`seq`): created, Review, Approve, completed, each once.
    const outboxStories = new Map<string, string[]>();
    for (const {event} of await pgQuery<{event: EventBody}>(
      db(deployment),
      'SELECT event FROM main.outbox_events ORDER BY seq',
    )) {
      for (const taskId of tasksConcerned(event))
        outboxStories.set(taskId, [
          ...(outboxStories.get(taskId) ?? []),
          labelOf(event),
        ]);
    }
    let completedTasks = 0;
    let completedEarly = 0;
    for (const task of tasks) {
      if (task.status !== 'completed') continue;
      completedTasks++;
      const own = userTasksOf.get(task.id) ?? [];
      const names = own.map(u => u.name).sort();
      if (
        names.join() !== 'Approve,Review' ||
        own.some(u => u.status !== 'completed') ||
        (outboxStories.get(task.id) ?? []).join() !== TASK_EVENTS.join()
      )
        completedEarly++;
    }
    if (completedTasks !== tasks.length) {
      const open = tasks.filter(task => task.status !== 'completed');
      const stories = await Promise.all(
        open.slice(0, 5).map(async task => {
          const recorded = (userTasksOf.get(task.id) ?? [])
            .map(u => `${u.name}:${u.status}`)
            .join(',');
          const waiting = task.external_id
            ? (
                (await (
                  await fetch(
                    `${engineUrl}/task?processInstanceId=${task.external_id}`,
                  )
                ).json()) as {name: string}[]
              )
                .map(u => u.name)
                .join(',')
            : 'no instance';
          return `${task.name} (${task.id}): user tasks recorded [${recorded}], engine waits at [${waiting}]`;
        }),
      );
      problems.push(
        `${open.length} tasks not completed: ${stories.join('; ')}`,
      );
    }
    if (completedEarly)
      problems.push(
        `${completedEarly} completed tasks whose user tasks are not both completed, or whose outbox does not read created → Review → Approve → completed`,
      );

    // The engine: each instance in this deployment's tenant, once.
    const tenant = deployment.database;
    const parents = await engineCount(
      `tenantIdIn=${tenant}&processDefinitionKey=order-received`,
    );
    const children = await engineCount(
      `tenantIdIn=${tenant}&processDefinitionKey=review-task`,
    );
    const childIds = new Set(
      (
        (await (
          await fetch(
            `${engineUrl}/history/process-instance?tenantIdIn=${tenant}&processDefinitionKey=review-task&maxResults=10000`,
          )
        ).json()) as {id: string}[]
      ).map(i => i.id),
    );
    const foreignInstances = tasks.filter(
      t => !t.external_id || !childIds.has(t.external_id),
    ).length;
    if (parents !== eventsExpected)
      problems.push(`${parents} parent instances in its tenant`);
    if (children !== eventsExpected)
      problems.push(`${children} task instances in its tenant`);
    if (foreignInstances)
      problems.push(
        `${foreignInstances} tasks whose instance is not in its tenant`,
      );

    figures.set('events sent (distinct)', {[name]: eventsExpected});
    figures.set('requests and produce calls (retries, duplicates incl.)', {
      [name]: tally.requests,
    });
    figures.set('client retries on another instance / after a failure', {
      [name]: tally.retries,
    });
    figures.set('deliberate duplicate sends', {[name]: tally.duplicatesSent});
    figures.set('events stored', {[name]: stored});
    figures.set('events stored twice', {[name]: duplicateEvents});
    figures.set('tasks created', {[name]: tasks.length});
    figures.set('tasks made twice / missing', {
      [name]: `${duplicateTasks} / ${missingTasks}`,
    });
    figures.set('tasks of another deployment (wrong database)', {
      [name]: wrongDatabase,
    });
    figures.set('engine instances in its tenant (parent / task)', {
      [name]: `${parents} / ${children}`,
    });
    figures.set('tasks completed', {[name]: completedTasks});
    figures.set('user tasks completed (HTTP; sent twice at once)', {
      [name]: `${tally.completions} (${tally.completionsRepeated})`,
    });
    figures.set('unexpected answers', {[name]: tally.unexpected.length});
  }

  /**
   * Per subscriber: one delivery id per event, answered 2xx; repeats of one
   * id; each task's events one at a time, in order.
   */
  async function checkWebhooks(deployment: Deployment): Promise<void> {
    const outgoing = await count(
      deployment,
      'SELECT count(*) AS n FROM main.outbox_events',
    );
    const dead = await count(
      deployment,
      `SELECT count(*) AS n FROM main.webhook_deliveries WHERE status = 'dead'`,
    );
    for (const {label, receiver, secret} of deployment.subscribers) {
      const problems: string[] = [];
      deliveryProblems.set(label, problems);
      const acknowledged = receiver.acknowledged();
      const ids = new Map<string, number[]>();
      for (const hook of acknowledged)
        ids.set(hook.deliveryId, [
          ...(ids.get(hook.deliveryId) ?? []),
          hook.receivedAt,
        ]);
      // The same event under two delivery ids would be a second delivery.
      const idsByEvent = new Map<string, Set<string>>();
      let foreign = 0;
      let unsigned = 0;
      for (const hook of receiver.received) {
        const event = JSON.parse(hook.body) as EventBody;
        if (!verifySignature(hook.body, hook.headers, secret)) unsigned++;
        for (const taskId of tasksConcerned(event)) {
          if (!tasksById[deployment.name].has(taskId)) foreign++;
          const key = `${taskId}:${labelOf(event)}`;
          const set = idsByEvent.get(key) ?? new Set();
          set.add(hook.deliveryId);
          idsByEvent.set(key, set);
        }
      }
      const twoIds = [...idsByEvent.values()].filter(s => s.size > 1).length;
      let repeats = 0;
      let repeatsOfKill = 0;
      for (const times of ids.values()) {
        if (times.length < 2) continue;
        repeats += times.length - 1;
        // Answered around the kill (the request left before it), so the
        // killed instance could not record it: at least once, as documented.
        if (times[0] >= killedAt - 5000 && times[0] <= killedAt + 2000)
          repeatsOfKill += times.length - 1;
      }
      const expected = outgoing;
      if (ids.size !== expected)
        problems.push(
          `${ids.size} delivery ids answered 2xx, ${expected} events`,
        );
      if (twoIds) problems.push(`${twoIds} events under two delivery ids`);
      if (repeats - repeatsOfKill)
        problems.push(
          `${repeats - repeatsOfKill} repeats of a delivered id not explained by the kill`,
        );
      if (foreign) problems.push(`${foreign} webhooks of another deployment`);
      if (unsigned) problems.push(`${unsigned} webhooks badly signed`);
      if (dead) problems.push(`${dead} deliveries dead`);
      const violations = orderViolations(
        [...tasksById[deployment.name].keys()],
        storiesAt(receiver),
      );
      orderProblems[deployment.name].push(
        ...violations.map(v => `${label}: ${v}`),
      );
      figures.set(`webhooks 2xx (distinct ids) to ${label}`, {
        [deployment.name]: `${ids.size} of ${expected}`,
      });
      figures.set(`requests received by ${label} (all attempts)`, {
        [deployment.name]: receiver.received.length,
      });
      figures.set(`repeats of a delivered id at ${label} (by the kill)`, {
        [deployment.name]: `${repeats} (${repeatsOfKill})`,
      });
      figures.set(`order violations at ${label}`, {
        [deployment.name]: violations.length,
      });
    }
    figures.set('dead deliveries', {[deployment.name]: dead});
  }

  async function checkKafkaOut(): Promise<void> {
    // Kafka out: each task's events in order, on one key. Production is at
    // least once: a produce the broker wrote but could not acknowledge (it
    // was restarting) is produced again, and the copy follows the original
    // of its key, the same value; anything else is a violation.
    const byKey = new Map<string, string[]>();
    const lastValue = new Map<string, string>();
    let foreignMessages = 0;
    let kafkaRepeats = 0;
    for (const record of outputRecords) {
      const key = record.key ?? '';
      const event = JSON.parse(record.value) as EventBody;
      const taskIds = tasksConcerned(event);
      if (key !== taskIds[0]) foreignMessages++;
      if (!tasksById.C.has(key)) foreignMessages++;
      if (lastValue.get(key) === record.value) {
        kafkaRepeats++;
        continue;
      }
      lastValue.set(key, record.value);
      const list = byKey.get(key) ?? [];
      list.push(labelOf(event));
      byKey.set(key, list);
    }
    for (const taskId of tasksById.C.keys()) {
      const labels = byKey.get(taskId) ?? [];
      if (labels.join() !== TASK_EVENTS.join())
        orderProblems.C.push(`task ${taskId}: ${labels.join(' → ')}`);
    }
    if (foreignMessages)
      orderProblems.C.push(
        `${foreignMessages} messages keyed wrong or foreign`,
      );
    const outgoingC = await count(
      deployments.C,
      'SELECT count(*) AS n FROM main.outbox_events',
    );
    figures.set('Kafka messages in (input topic) / sends acknowledged', {
      C: `${inputRecords.length} / ${[...produced.values()].reduce((x, y) => x + y, 0)}`,
    });
    figures.set('Kafka messages out (output topic) / outgoing events', {
      C: `${outputRecords.length} / ${outgoingC}`,
    });
    figures.set('Kafka repeats (a copy right after its original)', {
      C: kafkaRepeats,
    });
    figures.set('order violations on the output topic', {
      C: orderProblems.C.length,
    });
  }

  // ---- the checks ---------------------------------------------------------

  it('settles: every task completed, every event published and delivered', () => {
    expect(quiescenceError?.message).to.be.undefined();
  });

  it('gives the clients only the answers they expect', () => {
    for (const tally of Object.values(tallies))
      expect(tally.unexpected).to.eql([]);
  });

  it('stores every event once and makes exactly one task per event, in its own database and tenant', () => {
    expect(storageProblems).to.eql({A: [], B: [], C: []});
  });

  it('delivers every outgoing event to each subscriber under one delivery id, answered 2xx', () => {
    expect(Object.fromEntries(deliveryProblems)).to.eql({
      'A-flaky': [],
      'A-steady': [],
      B: [],
    });
  });

  it("keeps each task's order at every receiver and on the output topic, completing a task after its user tasks", () => {
    expect(orderProblems).to.eql({A: [], B: [], C: []});
  });
});
