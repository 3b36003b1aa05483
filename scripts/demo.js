'use strict';
/**
 * The README walkthrough, end to end against a running example app, over
 * HTTP only:
 *   npm start            (in one terminal)
 *   npm run demo         (in another; BASE_URL defaults to http://127.0.0.1:3000)
 *
 * It mints a development token, creates a client app, subscribes a local
 * webhook receiver, deploys the two sample workflows, maps them, triggers an
 * event, completes the user tasks and checks that the task is completed and
 * that every webhook arrived with a signature that verifies.
 */
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const {devToken} = require('./dev-token');

const WORKFLOWS = path.join(
  __dirname,
  '..',
  'sandbox',
  'task-example',
  'workflows',
);
const EVENT_KEYS = ['task-created', 'user-task-completed', 'task-completed'];

/** A webhook receiver on 127.0.0.1 that verifies each delivery's signature. */
async function startReceiver(getSecret) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', chunk => (body += chunk));
    req.on('end', () => {
      const timestamp = req.headers['x-task-timestamp'];
      const signature = String(req.headers['x-task-signature'] ?? '');
      const expected = crypto
        .createHmac('sha256', getSecret())
        .update(`${body}:${timestamp}`)
        .digest('hex');
      const verified =
        signature.length === expected.length &&
        crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      received.push({
        deliveryId: req.headers['x-task-delivery-id'],
        verified,
        event: JSON.parse(body),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    received,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

async function waitFor(what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

/**
 * @param {{baseUrl?: string, token?: string, log?: (line: string) => void}} [options]
 * @returns the tasks, user tasks and webhooks seen, for a caller to check
 */
async function runWalkthrough(options = {}) {
  const baseUrl = (
    options.baseUrl ??
    process.env.BASE_URL ??
    'http://127.0.0.1:3000'
  ).replace(/\/$/, '');
  const log = options.log ?? console.log;
  const token = options.token ?? devToken();
  const run = crypto.randomBytes(3).toString('hex');

  async function api(method, route, body, headers = {}) {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? {'content-type': 'application/json'} : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  log(`1. Create a client app`);
  const clientApp = await api('POST', '/client-apps', {
    clientName: `demo-${run}`,
  });
  log(`   apiKey ${clientApp.apiKey} (the secret is shown once)`);

  log(`2. Subscribe a local webhook receiver to ${EVENT_KEYS.join(', ')}`);
  const receiver = await startReceiver(() => clientApp.apiSecret);
  try {
    for (const key of EVENT_KEYS) {
      await api(
        'POST',
        '/webhooks/subscribe',
        {url: receiver.url, key},
        {
          'x-api-key': clientApp.apiKey,
          'x-api-secret': clientApp.apiSecret,
        },
      );
    }

    log('3. Deploy the two sample workflows');
    // A workflow deployed by an earlier run is refused as a repeat; use it.
    const deploy = async (name, file) => {
      const bpmnFile = fs.readFileSync(path.join(WORKFLOWS, file), 'utf8');
      try {
        return await api('POST', '/workflows', {
          name,
          bpmnFile,
          inputSchema: {type: 'object'},
        });
      } catch (err) {
        if (!/same name and definition/.test(err.message)) throw err;
        const filter = JSON.stringify({
          where: {name},
          order: ['createdOn DESC'],
        });
        const [found] = await api(
          'GET',
          `/workflows?filter=${encodeURIComponent(filter)}`,
        );
        return found;
      }
    };
    const parent = await deploy('order-received', 'order-received.bpmn');
    const child = await deploy('review-task', 'review-task.bpmn');
    log(`   ${parent.externalIdentifier}, ${child.externalIdentifier}`);

    const eventKey = `order.received.${run}`;
    const taskKey = `review-order-${run}`;
    log(
      '4. Map the event to the parent workflow and the task key to the child',
    );
    await api('POST', '/events/mapping', {
      eventKey,
      workflowKey: parent.externalIdentifier,
    });
    await api('POST', '/tasks/mapping', {
      taskKey,
      workflowKey: child.externalIdentifier,
    });

    log(`5. Trigger ${eventKey}`);
    await api('POST', '/events/trigger', {
      key: eventKey,
      source: 'demo',
      description: 'An order came in',
      payload: {
        orderId: run,
        tasks: {
          values: [
            {key: taskKey, name: `Review order ${run}`, priority: 'high'},
          ],
        },
      },
    });

    log('6. List the tasks and their user tasks');
    const where = encodeURIComponent(JSON.stringify({where: {key: taskKey}}));
    const [task] = await waitFor('the task and its workflow', async () => {
      const tasks = await api('GET', `/tasks?filter=${where}`);
      return tasks.length === 1 && tasks[0].externalId ? tasks : undefined;
    });
    log(`   task ${task.id} "${task.name}" (${task.status})`);

    const completed = [];
    for (const expected of ['Review', 'Approve']) {
      const pending = await waitFor(`user task ${expected}`, async () => {
        const list = await api('GET', `/tasks/${task.id}/user-tasks`);
        return list.find(u => u.status === 'pending');
      });
      log(`7. Complete user task "${pending.name}"`);
      await api('PATCH', `/tasks/${task.id}/user-tasks/${pending.id}/complete`);
      completed.push(pending.name);
    }

    log('8. See the task completed');
    const done = await waitFor('the task to be completed', async () => {
      const t = await api('GET', `/tasks/${task.id}`);
      return t.status === 'completed' ? t : undefined;
    });
    log(`   task ${done.id} is ${done.status}`);

    log('9. See the webhooks arrive, signed');
    const mine = () =>
      receiver.received.filter(
        r =>
          (r.event.key === 'task-created' &&
            r.event.payload.createdTasks.some(t => t.id === task.id)) ||
          (r.event.key === 'user-task-completed' &&
            r.event.payload.task.id === task.id) ||
          (r.event.key === 'task-completed' &&
            r.event.payload.taskId === task.id),
      );
    const hooks = await waitFor('four webhooks', async () =>
      mine().length >= 4 ? mine() : undefined,
    );
    for (const hook of hooks) {
      log(
        `   ${hook.event.key} delivery ${hook.deliveryId}: signature ${hook.verified ? 'verifies' : 'DOES NOT verify'}`,
      );
    }
    if (!hooks.every(h => h.verified))
      throw new Error('A webhook signature did not verify');
    log('Walkthrough complete.');
    return {task: done, userTasks: completed, webhooks: hooks, parent, child};
  } finally {
    await receiver.close();
  }
}

module.exports = {runWalkthrough};

if (require.main === module) {
  runWalkthrough().catch(err => {
    console.error(`Walkthrough failed: ${err.message}`);
    process.exit(1);
  });
}
