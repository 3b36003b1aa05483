import {Client, expect} from '@loopback/testlab';
import {TaskHttpBindings, TaskHttpComponent} from '../../connectors/http';
import {TaskServiceBindings} from '../../keys';
import {EventType} from '../../models';
import {EventOutbox} from '../../services';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {testHttpConfig} from '../fixtures/http-config';
import {
  concerns,
  EventBody,
  OrderedReceiver,
} from '../fixtures/ordered-receiver';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const KEYS = [
  EventType.TaskCreated,
  EventType.UserTaskCompleted,
  EventType.TaskCompleted,
];

interface Deliveries {
  status: string;
  n: string;
}

/**
 * The events of a task's life through the outbox, webhooks and a real
 * receiver: `task-created` (naming several tasks), three
 * `user-task-completed`, `task-completed`, each labelled by `step`.
 */
async function announceLives(outbox: EventOutbox, tasks: string[]) {
  const groups = [
    tasks.slice(0, tasks.length / 2),
    tasks.slice(tasks.length / 2),
  ];
  for (const group of groups) {
    await outbox.announce(EventType.TaskCreated, {
      createdTasks: group.map(id => ({id})),
      step: 'created',
    });
  }
  for (let n = 1; n <= 3; n++) {
    for (const id of tasks) {
      await outbox.announce(EventType.UserTaskCompleted, {
        task: {id},
        userTask: {id: `${id}-u${n}`, taskId: id},
        step: `user-task-${n}`,
      });
    }
  }
  for (const id of tasks) {
    await outbox.announce(EventType.TaskCompleted, {taskId: id, step: 'done'});
  }
}

const LIFE = [
  'created✓',
  'user-task-1✓',
  'user-task-2✓',
  'user-task-3✓',
  'done✓',
];

function stepOf(taskId: string) {
  return (event: EventBody) =>
    concerns(event, taskId) ? String(event.payload.step) : undefined;
}

describe('Webhook order per receiver and task (PostgreSQL, real receivers)', function () {
  this.timeout(120000);
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  let outbox: EventOutbox;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const receivers: OrderedReceiver[] = [];
  const others: TestApp[] = [];
  let clients = 0;

  function givenApp(maxAttempts = 100) {
    return givenTestApp({
      db,
      after: app => {
        app.component(TaskHttpComponent);
        app.bind(TaskHttpBindings.CONFIG).to(
          testHttpConfig({
            delivery: {
              maxAttempts,
              initialBackoffMs: 50,
              maxBackoffMs: 250,
              timeoutMs: 5000,
              pollIntervalMs: 25,
              concurrency: 8,
            },
          }),
        );
        app
          .bind(TaskServiceBindings.OUTBOX_CONFIG)
          .to({pollIntervalMs: 25, initialBackoffMs: 20});
      },
    });
  }

  before(async () => {
    db = await TestDatabase.create();
    t = await givenApp();
    client = t.client;
    outbox = await t.app.get<EventOutbox>('services.EventOutbox');
  });
  after(async () => {
    for (const other of others) await other.stop();
    await t?.stop();
    await Promise.all(receivers.map(r => r.stop()));
    await db?.drop();
  });

  async function givenReceiver() {
    const receiver = await new OrderedReceiver().start();
    receivers.push(receiver);
    return receiver;
  }

  /** A client app subscribing `url` to every event key (three subscriptions, one receiver). */
  async function subscribe(url: string) {
    const res = await client
      .post('/client-apps')
      .set(admin)
      .send({clientName: `order-${++clients}`})
      .expect(200);
    const creds = {
      'x-api-key': res.body.apiKey as string,
      'x-api-secret': res.body.apiSecret as string,
    };
    for (const key of KEYS) {
      await client
        .post('/webhooks/subscribe')
        .set(admin)
        .set(creds)
        .send({url, key})
        .expect(200);
    }
    return creds;
  }

  function deliveriesTo(url: string) {
    return db.query<Deliveries>(
      `SELECT status, event->'payload'->>'step' AS n
         FROM main.webhook_deliveries WHERE url = $1`,
      [url],
    );
  }

  async function allDelivered(url: string, count: number) {
    await eventually(
      async () => {
        const rows = await deliveriesTo(url);
        return (
          rows.length === count && rows.every(r => r.status === 'delivered')
        );
      },
      `${count} deliveries to ${url}`,
      60000,
    );
  }

  it('a receiver that fails for seconds gets each task’s events once each, in order', async () => {
    const receiver = await givenReceiver();
    await subscribe(receiver.url);
    const failUntil = Date.now() + 3000;
    receiver.answer = () => (Date.now() < failUntil ? 503 : 204);
    const tasks = Array.from({length: 6}, (_, i) => `fail-${i}`);
    await announceLives(outbox, tasks);
    // 2 task-created, 3 × 6 user-task-completed, 6 task-completed.
    await allDelivered(receiver.url, 26);
    receiver.expectEachAcknowledgedOnce();
    expect(receiver.acknowledged()).to.have.length(26);
    for (const id of tasks) {
      expect({[id]: receiver.runsOf(stepOf(id))}).to.eql({[id]: LIFE});
    }
    // It really failed for a while: retries happened.
    expect(receiver.received.length).to.be.above(26);
  });

  it('two instances on one database share the work and keep each task in order', async () => {
    const second = await givenApp();
    others.push(second);
    const receiver = await givenReceiver();
    await subscribe(receiver.url);
    // Now and then a failure, and some latency, so both workers interleave.
    receiver.answer = () =>
      new Promise(r =>
        setTimeout(() => r(Math.random() < 0.2 ? 500 : 204), Math.random() * 5),
      );
    const secondOutbox = await second.app.get<EventOutbox>(
      'services.EventOutbox',
    );
    const tasks = Array.from({length: 10}, (_, i) => `two-${i}`);
    await Promise.all([
      announceLives(outbox, tasks.slice(0, 6)),
      announceLives(secondOutbox, tasks.slice(6)),
    ]);
    await allDelivered(receiver.url, 2 + 18 + 6 + 2 + 12 + 4);
    receiver.expectEachAcknowledgedOnce();
    for (const id of tasks) {
      expect({[id]: receiver.runsOf(stepOf(id))}).to.eql({[id]: LIFE});
    }
    const workers = await db.query<{worker: string}>(
      `SELECT DISTINCT a.worker FROM main.webhook_delivery_attempts a
         JOIN main.webhook_deliveries d ON d.id = a.delivery_id
        WHERE d.url = $1`,
      [receiver.url],
    );
    expect(workers).to.have.length(2);
  });

  describe('a dead delivery', () => {
    let stuck: TestApp;

    before(async () => {
      // Its own app: deliveries die after two attempts.
      stuck = await givenApp(2);
      others.push(stuck);
      // Only this app's worker sends from here on.
      for (const app of [t, ...others.filter(o => o !== stuck)]) {
        const worker = await app.app.get(TaskHttpBindings.DELIVERY_WORKER);
        await worker.stop?.();
      }
    });

    it('holds back the later deliveries of its task to its receiver until it is re-queued', async () => {
      const receiver = await givenReceiver();
      const creds = await subscribe(receiver.url);
      const healthy = await givenReceiver();
      await subscribe(healthy.url);
      let refuse = true;
      receiver.answer = hook =>
        refuse && (JSON.parse(hook.body) as EventBody).payload.step === 'x0'
          ? 500
          : 204;
      const stuckOutbox = await stuck.app.get<EventOutbox>(
        'services.EventOutbox',
      );
      const emit = (taskId: string, step: string) =>
        stuckOutbox.announce(EventType.TaskCompleted, {taskId, step});
      await emit('x', 'x0');
      await emit('x', 'x1');
      await emit('y', 'y0');
      await emit('x', 'x2');
      await emit('y', 'y1');

      // Task y and the other receiver are not held back.
      await allDelivered(healthy.url, 5);
      expect(healthy.runsOf(stepOf('x'))).to.eql(['x0✓', 'x1✓', 'x2✓']);
      await eventually(
        async () =>
          (await deliveriesTo(receiver.url)).filter(
            r => r.status === 'delivered',
          ).length === 2,
        "y's deliveries",
      );
      // Attempts are recorded a moment after their POSTs, together.
      const dead = await eventually(
        async () =>
          (
            await db.query<{id: string}>(
              `SELECT id FROM main.webhook_deliveries
                WHERE url = $1 AND status = 'dead'`,
              [receiver.url],
            )
          )[0],
        'x0 recorded dead',
      );
      await new Promise(r => setTimeout(r, 500));
      const rows = await deliveriesTo(receiver.url);
      const byStep = Object.fromEntries(rows.map(r => [r.n, r.status]));
      expect(byStep).to.eql({
        x0: 'dead',
        x1: 'pending',
        x2: 'pending',
        y0: 'delivered',
        y1: 'delivered',
      });
      // Nothing after x0 was even tried.
      expect(receiver.runsOf(stepOf('x'))).to.eql(['x0']);
      const untried = await db.query<{attempts: number}>(
        `SELECT total_attempts AS attempts FROM main.webhook_deliveries
          WHERE url = $1 AND event->'payload'->>'step' IN ('x1', 'x2')`,
        [receiver.url],
      );
      expect(untried.map(r => r.attempts)).to.eql([0, 0]);
      // Held back out of the claim's way while x0 is dead: those queued
      // before it died, and one queued since.
      await emit('x', 'x3');
      await eventually(
        async () => (await deliveriesTo(receiver.url)).length === 6,
        'x3 queued',
      );
      const held = await db.query<{n: string; later: boolean}>(
        `SELECT event->'payload'->>'step' AS n,
                next_attempt_on > now() + interval '1 year' AS later
           FROM main.webhook_deliveries
          WHERE url = $1 AND status = 'pending' ORDER BY seq`,
        [receiver.url],
      );
      expect(held).to.eql([
        {n: 'x1', later: true},
        {n: 'x2', later: true},
        {n: 'x3', later: true},
      ]);

      // Re-queued (the receiver fixed): x0, then x1 and x2, in order.
      refuse = false;
      await client
        .post(`/webhooks/deliveries/${dead.id}/retry`)
        .set(admin)
        .set(creds)
        .expect(200);
      await allDelivered(receiver.url, 6);
      expect(receiver.runsOf(stepOf('x'))).to.eql(['x0✓', 'x1✓', 'x2✓', 'x3✓']);
      expect(
        receiver.received.filter(
          h => (JSON.parse(h.body) as EventBody).payload.step === 'x0',
        ),
      ).to.have.length(3);
      receiver.expectEachAcknowledgedOnce();
    });
  });
});
