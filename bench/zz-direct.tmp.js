'use strict';
const {load} = require('./lib/load');
const {startChild} = require('./lib/proc');
const {scratchDatabase} = require('./lib/db');
const {bearer, startService, startFloor, commonEnv} = require('./lib/service');
(async () => {
  const db = await scratchDatabase('zzdirect');
  const service = await startService(db);
  const direct = await startChild('zz-direct.tmp', {...commonEnv(db), PORT: '0', HOST: '127.0.0.1', CAMUNDA_URL: 'http://127.0.0.1:8080/engine-rest', CAMUNDA_TENANT_ID: db.name, TASK_INCOMING: 'http', TASK_OUTGOING: 'http', RATE_LIMIT_TRIGGER: '100000000/1', NODE_ENV: 'production', LOG_FORMAT: 'json'});
  console.log('logger found', direct.info.logger);
  const kids = {service, direct, floor: await startFloor(db)};
  const body = JSON.stringify({key: 'bench-unmapped', source: 'bench', description: 'An order arrived', payload: {orderId: 'order-1', amount: 42, lines: [{sku: 'a', qty: 2}]}});
  const run = async (name, seconds = 5) => { const c = kids[name]; const b = await c.cpuMs(); const r = await load({url: `${c.url}/events/trigger`, method: 'POST', headers: {authorization: bearer(), 'content-type': 'application/json'}, body, seconds}); return {rate: Math.round(r.rate), cpu: (((await c.cpuMs()) - b) / r.ok).toFixed(3)}; };
  for (const n of Object.keys(kids)) await run(n, 2);
  for (let r = 0; r < 3; r++) for (const n of Object.keys(kids)) console.log(n, JSON.stringify(await run(n)));
  for (const c of Object.values(kids)) await c.stop();
  await db.drop();
  process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
