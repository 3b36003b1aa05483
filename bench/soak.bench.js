'use strict';
/**
 * Soak: memory and latency stay flat. BLOCKS blocks of REQUESTS mixed
 * requests each (every tenth a trigger of an event mapped to a real Camunda
 * workflow that creates a task; the rest unmapped triggers, task, event and
 * user-task reads, counts), 16 clients. After each block the service's RSS
 * (after a full GC) and the block's p50/p99 are printed. Targets: RSS within
 * 40 MB of the first block (after a warm-up block) and the last block's p50
 * within 30 % of the first's. Default 10 × 5,000 requests, 5,000 events
 * through the workflow; about 6-10 minutes on two cores.
 *
 *   npm run bench:soak    (BENCH_SOAK_BLOCKS, BENCH_SOAK_REQUESTS)
 */
const crypto = require('crypto');
const os = require('os');
const autocannon = require('autocannon');
const {scratchDatabase} = require('./lib/db');
const {until} = require('./lib/kafka');
const camunda = require('./lib/camunda');
const {fmt, header, infoLine, targetLine} = require('./lib/report');
const {bearer, startService} = require('./lib/service');

const BENCH = 'soak';
const BLOCKS = Number(process.env.BENCH_SOAK_BLOCKS ?? 10);
const REQUESTS = Number(process.env.BENCH_SOAK_REQUESTS ?? 5000);
const CONNECTIONS = 16;

async function main() {
  header(
    BENCH,
    `${BLOCKS} blocks of ${REQUESTS} mixed requests, ${BLOCKS * (REQUESTS / 10)} events through Camunda`,
  );
  const db = await scratchDatabase(BENCH);
  const processKey = `bench_soak_${crypto.randomBytes(3).toString('hex')}`;
  let service;
  try {
    service = await startService(db);
    const authorization = bearer();
    const json = {authorization, 'content-type': 'application/json'};
    const call = async (method, path, body) => {
      const res = await fetch(`${service.url}${path}`, {
        method,
        headers: json,
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok)
        throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? undefined : res.json();
    };
    const workflow = await call('POST', '/workflows', {
      name: processKey,
      bpmnFile: camunda.createTasksBpmn(processKey),
    });
    await call('POST', '/events/mapping', {
      eventKey: 'soak-order',
      workflowKey: workflow.externalIdentifier,
    });

    let n = 0;
    let mapped = 0;
    const taskIds = [];
    const filter = f => encodeURIComponent(JSON.stringify(f));
    const mix = [
      () => {
        mapped++;
        const name = `soak-${n}`;
        return {
          method: 'POST',
          path: '/events/trigger',
          headers: json,
          body: JSON.stringify({
            key: 'soak-order',
            payload: {
              orderId: name,
              tasks: {values: [{key: 'soak-review', name}]},
            },
          }),
        };
      },
      () => ({
        method: 'POST',
        path: '/events/trigger',
        headers: json,
        body: JSON.stringify({key: 'soak-unmapped', payload: {n}}),
      }),
      () => ({
        method: 'POST',
        path: '/events/trigger',
        headers: json,
        body: JSON.stringify({key: 'soak-unmapped', payload: {n}}),
      }),
      () => ({
        path: `/tasks?filter=${filter({where: {key: 'soak-review', status: 'pending'}, limit: 20})}`,
      }),
      () => ({
        path: `/tasks?filter=${filter({where: {key: 'soak-review'}, limit: 50, skip: n % 200})}`,
      }),
      () => ({
        path: `/events?filter=${filter({where: {key: 'soak-unmapped'}, limit: 20})}`,
      }),
      () => ({
        path: `/events?filter=${filter({where: {key: 'soak-order', timestamp: {gt: Date.now() - 60000}}, limit: 50})}`,
      }),
      () => ({path: '/tasks/count'}),
      () =>
        taskIds.length
          ? {path: `/tasks/${taskIds[n % taskIds.length]}/user-tasks`}
          : {path: '/events/count'},
      () => ({path: `/events/count?where=${filter({key: 'soak-order'})}`}),
    ];
    const block = async () => {
      const cpuBefore = await service.cpuMs();
      const result = await autocannon({
        url: service.url,
        connections: CONNECTIONS,
        amount: REQUESTS,
        timeout: 30,
        headers: {authorization},
        requests: [
          {
            setupRequest: req => {
              const next = mix[n % mix.length]();
              n++;
              return {...req, method: 'GET', ...next};
            },
          },
        ],
      });
      const failed = result.non2xx + result.errors + result.timeouts;
      if (failed) {
        throw new Error(
          `${failed} requests failed: ${JSON.stringify(result.statusCodeStats)}`,
        );
      }
      // The block's events have all become tasks.
      const expected = mapped;
      await until(
        async () =>
          (
            await db.query(
              "SELECT count(*)::int AS n FROM main.tasks WHERE key = 'soak-review'",
            )
          )[0].n >= expected,
        `${expected} tasks`,
        600000,
      );
      const ids = await db.query(
        "SELECT id FROM main.tasks WHERE key = 'soak-review' ORDER BY random() LIMIT 50",
      );
      taskIds.splice(0, taskIds.length, ...ids.map(r => r.id));
      const cpuMs = (await service.cpuMs()) - cpuBefore;
      const usage = await service.call('usage', {gc: true});
      return {
        // The service's CPU time per request of the block, its events'
        // workflows included: unlike latency, it hardly moves when other
        // work on the machine takes the cores.
        cpuPerRequest: cpuMs / REQUESTS,
        load: os.loadavg()[0],
        p50: result.latency.p50,
        p99: result.latency.p99,
        rate: result.latency.totalCount / result.duration,
        rssMb: usage.rss / 2 ** 20,
        heapMb: usage.heapUsed / 2 ** 20,
      };
    };

    const started = Date.now();
    const warm = await block();
    console.log(
      `   warm-up: p50 ${fmt(warm.p50, 1)} ms, p99 ${fmt(warm.p99, 1)} ms, RSS ${fmt(warm.rssMb)} MB`,
    );
    const blocks = [];
    for (let b = 1; b <= BLOCKS; b++) {
      const r = await block();
      blocks.push(r);
      console.log(
        `   block ${String(b).padStart(2)}: ${fmt(r.rate)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, CPU ${fmt(r.cpuPerRequest, 2)} ms/request, RSS ${fmt(r.rssMb)} MB, heap ${fmt(r.heapMb)} MB, load ${fmt(r.load, 1)}`,
      );
    }
    const first = blocks[0];
    const last = blocks[blocks.length - 1];
    const maxRss = Math.max(...blocks.map(b => b.rssMb));
    targetLine({
      bench: BENCH,
      what: 'RSS growth after warm-up (largest block − first block)',
      unit: 'MB',
      value: maxRss - first.rssMb,
      atMost: 40,
    });
    targetLine({
      bench: BENCH,
      what: 'p50 of the last block against the first',
      unit: '%',
      value: (100 * (last.p50 - first.p50)) / first.p50,
      atMost: 30,
      note: `${fmt(first.p50, 1)} → ${fmt(last.p50, 1)} ms`,
    });
    infoLine(
      BENCH,
      'CPU per request, last block against the first',
      `${fmt(first.cpuPerRequest, 2)} → ${fmt(last.cpuPerRequest, 2)} ms (${fmt((100 * (last.cpuPerRequest - first.cpuPerRequest)) / first.cpuPerRequest, 0)} %; read it beside the p50 when the machine's load changed during the run)`,
    );
    infoLine(
      BENCH,
      'run',
      `${n} requests, ${mapped} events through Camunda in ${fmt((Date.now() - started) / 60000, 1)} min`,
    );
  } finally {
    await service?.stop();
    await camunda.removeTenants(db.name).catch(err => {
      console.error(`Could not remove the soak deployments: ${err.message}`);
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
