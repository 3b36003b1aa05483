'use strict';
/**
 * Event → task on the real Camunda engine (a tenant of its own, so other
 * users of the engine are not disturbed): `POST /events/trigger` of an event
 * mapped to a workflow whose service task runs `create-tasks`; a task counts
 * when its row is committed (a trigger on the bench database notifies).
 *
 * - Saturation: N events at once; tasks/s against a bare fetch-and-lock
 *   worker (no framework) completing N instances of the same BPMN started
 *   on the same engine (target ≥ 0.7 ×).
 * - Latency at 20 events/s offered: p50 ≤ 250 ms, p99 ≤ 1 s.
 *
 *   npm run bench:workflow    (BENCH_FLOW_EVENTS, BENCH_FLOW_SECONDS)
 */
const crypto = require('crypto');
const {Client} = require('pg');
const {env} = require('./lib/env');
const {scratchDatabase} = require('./lib/db');
const {interleave} = require('./lib/load');
const {startChild, profiled} = require('./lib/proc');
const camunda = require('./lib/camunda');
const {
  fmt,
  header,
  infoLine,
  median,
  ratioLine,
  targetLine,
} = require('./lib/report');
const {bearer, startService} = require('./lib/service');

const BENCH = 'workflow';
const EVENTS = Number(process.env.BENCH_FLOW_EVENTS ?? 200);
const OFFERED_PER_S = 20;
const LATENCY_SECONDS = Number(process.env.BENCH_FLOW_SECONDS ?? 20);

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
};

/** Runs `work(i)` for i < n with at most `concurrency` at once. */
async function pool(n, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({length: Math.min(n, concurrency)}, async () => {
      while (next < n) await work(next++);
    }),
  );
}

/** Waits until `names` have all arrived in `arrivals` (name → ms), or fails. */
async function arrivalsOf(arrivals, names, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing = names.filter(n => !arrivals.has(n));
    if (!missing.length) return names.map(n => arrivals.get(n));
    if (Date.now() > deadline) {
      throw new Error(
        `${missing.length} of ${names.length} did not arrive in ${timeoutMs} ms (first: ${missing[0]})`,
      );
    }
    await new Promise(r => setTimeout(r, 20));
  }
}

async function main() {
  header(BENCH, 'event → task on Camunda against a bare fetch-and-lock worker');
  const db = await scratchDatabase(BENCH);
  const bareTenant = `${db.name}_bare`;
  const processKey = `bench_flow_${crypto.randomBytes(3).toString('hex')}`;
  const xml = camunda.createTasksBpmn(processKey);
  const children = [];
  const listener = new Client(db.connection);
  try {
    // A task is there when its row commits: NOTIFY is delivered at commit.
    await db.query(`
      CREATE FUNCTION main.bench_task_notify() RETURNS trigger AS $$
      BEGIN PERFORM pg_notify('bench_tasks', NEW.name); RETURN NEW; END $$
      LANGUAGE plpgsql;
      CREATE TRIGGER bench_task_notify AFTER INSERT ON main.tasks
        FOR EACH ROW EXECUTE FUNCTION main.bench_task_notify();`);
    const taskArrivals = new Map();
    await listener.connect();
    listener.on('notification', n => taskArrivals.set(n.payload, Date.now()));
    await listener.query('LISTEN bench_tasks');

    const service = await startService(db);
    children.push(service);
    const auth = {
      authorization: bearer(),
      'content-type': 'application/json',
    };
    const call = async (method, path, body) => {
      const res = await fetch(`${service.url}${path}`, {
        method,
        headers: auth,
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) {
        throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      }
      return res.status === 204 ? undefined : res.json();
    };
    const workflow = await call('POST', '/workflows', {
      name: processKey,
      bpmnFile: xml,
    });
    await call('POST', '/events/mapping', {
      eventKey: 'bench-order',
      workflowKey: workflow.externalIdentifier,
    });
    const trigger = name =>
      call('POST', '/events/trigger', {
        key: 'bench-order',
        source: 'bench',
        payload: {
          orderId: name,
          tasks: {values: [{key: 'bench-review', name}]},
        },
      });

    await camunda.deploy(processKey, xml, bareTenant);
    const bare = await startChild(
      'bare-worker',
      {CAMUNDA_URL: env.camundaUrl, TENANT_ID: bareTenant},
      {name: 'bare worker'},
    );
    children.push(bare);
    const bareArrivals = new Map();
    bare.onMessage(msg => {
      if (msg?.type === 'completed') bareArrivals.set(msg.businessKey, msg.at);
    });
    const startBare = name =>
      camunda.rest(
        'POST',
        `/process-definition/key/${processKey}/tenant-id/${bareTenant}/start`,
        {businessKey: name, variables: {orderId: {value: name}}},
      );

    const saturate = async (label, send, arrivals, n) => {
      const names = Array.from({length: n}, (_, i) => `${label}-${i}`);
      const started = Date.now();
      await pool(n, env.concurrency, i => send(names[i]));
      if (process.env.BENCH_DEBUG) {
        console.log(`   ${label}: ${n} sent in ${Date.now() - started} ms`);
      }
      const times = await arrivalsOf(arrivals, names, 120000);
      return (n * 1000) / (Math.max(...times) - started);
    };
    // Warm-up of both paths (JIT, pools, the engine's caches).
    await saturate('warm-ours', trigger, taskArrivals, 20);
    await saturate('warm-bare', startBare, bareArrivals, 20);
    const cpuPerTask = [];
    const rounds = await interleave(
      env.rounds,
      async r => {
        const cpuBefore = await service.cpuMs();
        const rate = await saturate(`ours-${r}`, trigger, taskArrivals, EVENTS);
        cpuPerTask.push(((await service.cpuMs()) - cpuBefore) / EVENTS);
        return rate;
      },
      r => saturate(`bare-${r}`, startBare, bareArrivals, EVENTS),
    );
    ratioLine({
      bench: BENCH,
      what: `event → task at saturation (${EVENTS} events at once)`,
      unit: 'tasks/s',
      ours: rounds.a,
      ceiling: rounds.b,
      ceilingName: 'bare worker',
      target: 0.7,
    });

    infoLine(
      BENCH,
      'service CPU per event → task',
      `${fmt(median(cpuPerTask), 1)} ms`,
    );

    const offered = async (label, send, arrivals) => {
      const n = OFFERED_PER_S * LATENCY_SECONDS;
      const sent = new Map();
      const sends = [];
      const t0 = Date.now();
      for (let i = 0; i < n; i++) {
        const due = t0 + (i * 1000) / OFFERED_PER_S;
        await new Promise(r => setTimeout(r, Math.max(0, due - Date.now())));
        const name = `${label}-${i}`;
        sent.set(name, Date.now());
        sends.push(send(name));
      }
      await Promise.all(sends);
      const names = [...sent.keys()];
      const times = await arrivalsOf(arrivals, names, 60000);
      return names.map((name, i) => times[i] - sent.get(name));
    };
    const ours = await profiled(service, BENCH, 'offered-20', () =>
      offered('lat-ours', trigger, taskArrivals),
    );
    const p50 = percentile(ours, 50);
    const p99 = percentile(ours, 99);
    targetLine({
      bench: BENCH,
      what: `event → task latency at ${OFFERED_PER_S} events/s offered, p50`,
      unit: 'ms',
      value: p50,
      atMost: 250,
    });
    targetLine({
      bench: BENCH,
      what: `event → task latency at ${OFFERED_PER_S} events/s offered, p99`,
      unit: 'ms',
      value: p99,
      atMost: 1000,
    });
    const bareLatency = await offered('lat-bare', startBare, bareArrivals);
    infoLine(
      BENCH,
      `bare worker at ${OFFERED_PER_S}/s (start → completed)`,
      `p50 ${fmt(percentile(bareLatency, 50))} ms, p99 ${fmt(percentile(bareLatency, 99))} ms; ours p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, median of ${ours.length}: ${fmt(median(ours))} ms`,
    );
  } finally {
    for (const child of children.reverse()) await child.stop();
    await listener.end().catch(() => {});
    await camunda.removeTenants(db.name, bareTenant).catch(err => {
      console.error(`Could not remove the bench deployments: ${err.message}`);
    });
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err);
    process.exit(1);
  },
);
