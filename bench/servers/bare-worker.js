'use strict';
/**
 * The ceiling of the workflow benchmark: a bare external-task worker with no
 * framework. It long-polls fetch-and-lock for the topic in its tenant and
 * completes each task at once, with up to MAX_TASKS in flight, and tells
 * the parent when each completion was acknowledged.
 */
const {hostname} = require('os');
const {ready, exitOnSigterm} = require('../lib/child');

const base = process.env.CAMUNDA_URL;
const tenantId = process.env.TENANT_ID;
const topic = process.env.TOPIC ?? 'create-tasks';
const MAX_TASKS = Number(process.env.MAX_TASKS ?? 32);
const workerId = `bench-bare-${hostname()}-${process.pid}`;
let inFlight = 0;
let stopped = false;
let wake;

async function post(path, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function complete(task) {
  try {
    await post(`/external-task/${task.id}/complete`, {workerId});
    process.send?.({
      type: 'completed',
      at: Date.now(),
      businessKey: task.businessKey,
    });
  } catch (err) {
    console.error(err.message);
  } finally {
    inFlight--;
    wake?.();
  }
}

async function loop() {
  while (!stopped) {
    if (inFlight >= MAX_TASKS) {
      await new Promise(resolve => (wake = resolve));
      continue;
    }
    let tasks = [];
    try {
      tasks = await post('/external-task/fetchAndLock', {
        workerId,
        maxTasks: MAX_TASKS - inFlight,
        usePriority: false,
        asyncResponseTimeout: 1000,
        topics: [
          {topicName: topic, lockDuration: 10000, tenantIdIn: [tenantId]},
        ],
      });
    } catch (err) {
      console.error(err.message);
      await new Promise(r => setTimeout(r, 200));
    }
    for (const task of tasks) {
      inFlight++;
      complete(task).catch(() => {});
    }
  }
}

exitOnSigterm(() => {
  stopped = true;
});
ready({workerId});
loop().catch(err => {
  console.error(err);
  process.exit(1);
});
