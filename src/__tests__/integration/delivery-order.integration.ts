import {juggler} from '@loopback/repository';
import {Client, expect, sinon} from '@loopback/testlab';
import {
  TaskHttpBindings,
  TaskHttpComponent,
  WebhookSubscriptionRepository,
} from '../../connectors/http';
import {TaskServiceBindings} from '../../keys';
import {EventType} from '../../models';
import {EventOutbox} from '../../services';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';
import {testHttpConfig} from '../fixtures/http-config';
import {
  expectHeldBehind,
  expectQueuedBehind,
  makeDueAgain,
} from '../fixtures/waiting-rows';
import {TaskDbSourceName} from '../../types';
import {sqlSessionOf, TaskDataSource} from '../../sql';
import {WebhookDelivery} from '../../connectors/http/models';
import {IEvent} from '../../interfaces';
import {
  ClaimedDelivery,
  WebhookDeliveryStore,
} from '../../connectors/http/stores/webhook-delivery.store';
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

interface DeliveryRow {
  id: string;
  status: string;
  /** The event's step. */
  n: string;
  seq: number;
  totalAttempts: number;
  nextAttemptOn: Date;
}

/** The deliveries to `url`, in the order they were queued. */
async function deliveriesOf(
  db: CellDatabase,
  url: string,
): Promise<DeliveryRow[]> {
  const rows = await db.rows<{
    id: string;
    status: string;
    event: unknown;
    seq: number | string;
    total_attempts: number;
    next_attempt_on: Date;
  }>('webhook_deliveries', {where: {url}, orderBy: 'seq'});
  return rows.map(r => ({
    id: r.id,
    status: r.status,
    // A JSON column: parsed by PostgreSQL's and MariaDB's drivers, text on MySQL.
    n: String(
      (typeof r.event === 'string' ? JSON.parse(r.event) : r.event).payload
        .step,
    ),
    seq: Number(r.seq),
    totalAttempts: r.total_attempts,
    nextAttemptOn: r.next_attempt_on,
  }));
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

/** The step of the event a claimed delivery carries. */
function stepOfBody(claim: ClaimedDelivery): string {
  return String((JSON.parse(claim.body) as EventBody).payload.step);
}

function stepOf(taskId: string) {
  return (event: EventBody) =>
    concerns(event, taskId) ? String(event.payload.step) : undefined;
}

for (const cell of dataCells()) {
  describe(`Webhook order per receiver and task (${cell.name}, real receivers)`, function () {
    this.timeout(120000);
    let db: CellDatabase;
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
      db = await givenCellDatabase(cell);
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
      return deliveriesOf(db, url);
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

    it('a batch is queued with one look-up of its keys, and a statement only for the events someone subscribed to', async () => {
      const receiver = await givenReceiver();
      const res = await client
        .post('/client-apps')
        .set(admin)
        .send({clientName: `batch-${++clients}`})
        .expect(200);
      const creds = {
        'x-api-key': res.body.apiKey as string,
        'x-api-secret': res.body.apiSecret as string,
      };
      for (const key of ['batch-a', 'batch-b']) {
        await client
          .post('/webhooks/subscribe')
          .set(admin)
          .set(creds)
          .send({url: receiver.url, key})
          .expect(200);
      }
      const connector = await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
      const store = await t.app.get(TaskHttpBindings.DELIVERY_STORE);
      const lookups = sinon.spy(store, 'subscribedKeys');
      const enqueues = sinon.spy(store, 'enqueue');
      const event = (key: string, step: string): IEvent => ({
        key,
        payload: {step},
        timestamp: Date.now(),
        source: 'task-service',
      });
      try {
        await connector.publishBatch!([
          event('batch-a', 'a1'),
          event('batch-nobody', 'n1'),
          event('batch-b', 'b1'),
          event('batch-a', 'a2'),
          event('batch-nobody', 'n2'),
        ]);
      } finally {
        lookups.restore();
        enqueues.restore();
      }
      expect(lookups.callCount).to.equal(1);
      expect([...lookups.firstCall.args[0]].sort()).to.eql([
        'batch-a',
        'batch-b',
        'batch-nobody',
      ]);
      expect(enqueues.getCalls().map(c => c.args[0].payload.step)).to.eql([
        'a1',
        'b1',
        'a2',
      ]);
      await allDelivered(receiver.url, 3);
      expect((await deliveriesTo(receiver.url)).map(d => d.n)).to.eql([
        'a1',
        'b1',
        'a2',
      ]);
    });

    it('two instances on one database share the work and keep each task in order', async () => {
      const second = await givenApp();
      others.push(second);
      const receiver = await givenReceiver();
      await subscribe(receiver.url);
      // Now and then a failure, and some latency, so both workers interleave.
      receiver.answer = () =>
        new Promise(r =>
          setTimeout(
            () => r(Math.random() < 0.2 ? 500 : 204),
            Math.random() * 5,
          ),
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
        // Never two of a task's requests at once, across both workers.
        expect({[id]: receiver.overlaps(stepOf(id))}).to.eql({[id]: []});
      }
      // While requests of different tasks did run at once.
      expect(receiver.overlaps(() => 'any')).to.not.be.empty();
      const attempts = await db.rows<{worker: string}>(
        'webhook_delivery_attempts',
        {
          columns: ['worker'],
          where: {
            delivery_id: (await deliveriesTo(receiver.url)).map(d => d.id),
          },
        },
      );
      expect(new Set(attempts.map(a => a.worker)).size).to.equal(2);
    });

    it('a failure inside a run gives the rest back at once: they follow its retry, in order, long before their claim ends', async () => {
      const receiver = await givenReceiver();
      await subscribe(receiver.url);
      let failed = false;
      receiver.answer = hook => {
        const {step} = (JSON.parse(hook.body) as EventBody).payload;
        if (step === 'r2' && !failed) {
          failed = true;
          return 500;
        }
        return 204;
      };
      const steps = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
      const started = Date.now();
      const ds = await t.app.get<juggler.DataSource>(
        `datasources.${TaskDbSourceName}`,
      );
      // Queued together, so one claim can take them as one run.
      const tx = await ds.beginTransaction({});
      for (const step of steps) {
        await outbox.announce(
          EventType.TaskCompleted,
          {taskId: 'run', step},
          {transaction: tx},
        );
      }
      await tx.commit();
      outbox.relaySoon();
      await allDelivered(receiver.url, steps.length);
      // The claim of the rest (timeoutMs × 2 + 5 s) never had to run out.
      expect(Date.now() - started).to.be.below(5000);
      // Each in order, r2 twice (refused, then taken), nothing of the
      // task after r2 before r2 was taken.
      expect(receiver.runsOf(stepOf('run'))).to.eql(
        steps.map(step => `${step}✓`),
      );
      const sent = receiver.received.map(
        hook => (JSON.parse(hook.body) as EventBody).payload.step,
      );
      expect(sent).to.eql(['r0', 'r1', 'r2', 'r2', 'r3', 'r4', 'r5']);
      receiver.expectEachAcknowledgedOnce();
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
        // x0 dies after its second attempt, which may come after y's.
        const dead = await eventually(
          async () =>
            (await deliveriesTo(receiver.url)).find(d => d.status === 'dead'),
          'x0 dead',
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
        const untried = (await deliveriesTo(receiver.url)).filter(d =>
          ['x1', 'x2'].includes(d.n),
        );
        expect(untried.map(r => r.totalAttempts)).to.eql([0, 0]);
        // Held back out of the claim's way while x0 is dead: those queued
        // before it died, and one queued since.
        await emit('x', 'x3');
        await eventually(
          async () => (await deliveriesTo(receiver.url)).length === 6,
          'x3 queued',
        );
        const yearFromNow = Date.now() + 366 * 24 * 3600 * 1000;
        const held = (await deliveriesTo(receiver.url))
          .filter(d => d.status === 'pending')
          .map(d => ({n: d.n, later: d.nextAttemptOn.getTime() > yearFromNow}));
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
        expect(receiver.runsOf(stepOf('x'))).to.eql([
          'x0✓',
          'x1✓',
          'x2✓',
          'x3✓',
        ]);
        expect(
          receiver.received.filter(
            h => (JSON.parse(h.body) as EventBody).payload.step === 'x0',
          ),
        ).to.have.length(3);
        receiver.expectEachAcknowledgedOnce();
      });
    });

    describe('runs, as the store claims them', () => {
      let store: WebhookDeliveryStore;
      let url: string;
      const LOCK_MS = 60000;

      before(async () => {
        // No worker claims from here on: the tests claim themselves.
        for (const app of [t, ...others]) {
          const worker = await app.app.get(TaskHttpBindings.DELIVERY_WORKER);
          await worker.stop?.();
        }
        store = await t.app.get(TaskHttpBindings.DELIVERY_STORE);
      });

      beforeEach(async () => {
        // Each test's events go to its own receiver alone: the earlier
        // receivers no longer subscribe, so a small claim sees only these.
        const subscriptions = await t.app.getRepository(
          WebhookSubscriptionRepository,
        );
        await subscriptions.updateAll({deleted: true}, {deleted: false});
        const receiver = await givenReceiver();
        url = receiver.url;
        await subscribe(url);
      });

      const event = (payload: Record<string, unknown>): IEvent => ({
        key: EventType.TaskCompleted,
        payload,
        timestamp: Date.now(),
        source: 'test',
      });
      const completed = (taskId: string, step: string) =>
        store.enqueue(event({taskId, step}));

      /** This test's deliveries a claim took: step and run (by step). */
      async function claimHere(perRun: number) {
        const claimed = (await store.claim(50, LOCK_MS, perRun)).filter(
          c => c.url === url,
        );
        const stepById = new Map(claimed.map(c => [c.id, stepOfBody(c)]));
        return {
          claimed,
          runs: claimed.map(c => ({
            step: stepById.get(c.id),
            run: stepById.get(c.run ?? c.id) ?? 'another claim',
          })),
        };
      }

      const delivered = (claims: ClaimedDelivery[]) =>
        store.recordAll!(
          claims.map(claim => ({
            claim,
            outcome: {
              statusCode: 204,
              durationMs: 1,
              worker: 'test',
              delivered: true,
              dead: false,
              retryInMs: 0,
            },
          })),
        );

      it('a claim takes, behind a head, its task’s deliveries in order up to one with two keys', async () => {
        for (const step of ['s0', 's1', 's2', 's3']) {
          await completed('r', step);
        }
        await store.enqueue(
          event({createdTasks: [{id: 'r'}, {id: 'q'}], step: 'two'}),
        );
        await completed('r', 's5');
        await completed('q', 'q0');

        const first = await claimHere(20);
        expect(first.runs).to.eql([
          {step: 's0', run: 's0'},
          {step: 's1', run: 's0'},
          {step: 's2', run: 's0'},
          {step: 's3', run: 's0'},
        ]);
        // Held: nothing more of this receiver until they are recorded.
        expect((await claimHere(20)).runs).to.eql([]);

        await delivered(first.claimed);
        // The two-key delivery is a head, alone; what follows it on
        // either key waits for it.
        const second = await claimHere(20);
        expect(second.runs).to.eql([{step: 'two', run: 'two'}]);
        await delivered(second.claimed);
        const third = await claimHere(20);
        expect(third.runs.map(r => r.step).sort()).to.eql(['q0', 's5']);
        await delivered(third.claimed);
        const rows = await deliveriesTo(url);
        expect(rows.map(r => r.status)).to.eql(rows.map(() => 'delivered'));
      });

      it('a claim finds a head queued behind many due deliveries that wait on a held one', async () => {
        for (let n = 0; n < 60; n++) await completed('w', `w${n}`);
        const held = (await store.claim(2, LOCK_MS, 1)).filter(
          c => c.url === url,
        );
        expect(held.map(stepOfBody)).to.eql(['w0']);
        // w1…w59 are due and come first, but wait behind w0: a small claim
        // still reaches the next task's head past them.
        await completed('v', 'v0');
        const next = (await store.claim(2, LOCK_MS, 1)).filter(
          c => c.url === url,
        );
        expect(next.map(stepOfBody)).to.eql(['v0']);
        await delivered([...held, ...next]);
        const rest = await claimHere(60);
        expect(rest.runs.map(r => r.step)).to.eql(
          Array.from({length: 59}, (_, i) => `w${i + 1}`),
        );
        await delivered(rest.claimed);
      });

      it('a claim keeps the deliveries behind a failed or dead one out of its range, also those queued before the failure showed', async () => {
        for (const task of ['later', 'dead']) {
          for (const n of [0, 1, 2]) await completed(task, `${task}${n}`);
        }
        const heads = (await claimHere(1)).claimed;
        expect(heads.map(stepOfBody).sort()).to.eql(['dead0', 'later0']);
        await store.recordAll!(
          heads.map(claim => ({
            claim,
            outcome: {
              statusCode: 503,
              durationMs: 1,
              worker: 'test',
              delivered: false,
              dead: stepOfBody(claim) === 'dead0',
              retryInMs: 3_600_000,
            },
          })),
        );
        // One queued after the failures waits too: for the failed one's
        // next try, and for ever behind the dead one (the first of its key,
        // while the latest of its key is only held back).
        for (const task of ['later', 'dead']) await completed(task, `${task}3`);
        const queued = new Map((await deliveriesTo(url)).map(r => [r.n, r]));
        expectQueuedBehind(n => queued.get(n)!.nextAttemptOn, 'later', 'dead');
        // As if they were queued while the failures were being recorded
        // (their enqueue read the times from before): due again.
        const followers = (await deliveriesTo(url))
          .filter(r => /^(later|dead)[12]$/.test(r.n))
          .map(r => r.id);
        expect(followers).to.have.length(4);
        await makeDueAgain(
          t,
          db,
          'webhook_deliveries',
          'next_attempt_on',
          followers,
        );
        expect((await claimHere(20)).runs).to.eql([]);
        // MySQL's claim tests every due delivery, so it put them back out
        // of its range; PostgreSQL's tests them in order, heads only.
        if (db.cell.database === 'postgresql') return;
        const byN = new Map((await deliveriesTo(url)).map(r => [r.n, r]));
        expectHeldBehind(n => byN.get(n)!.nextAttemptOn, 'later', 'dead');
      });

      it('a claim takes the heads that another claim, still under way, holds not', async () => {
        const tasks = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5'];
        for (const task of tasks) await completed(task, task);
        const queued = await deliveriesTo(url);
        const ds = await t.app.get<TaskDataSource>(
          `datasources.${TaskDbSourceName}`,
        );
        const session = sqlSessionOf(ds);
        // Another worker's claim transaction, holding the first three.
        const other = await session.beginTransaction();
        let claimed: ClaimedDelivery[] = [];
        try {
          for (const row of queued.slice(0, 3)) {
            await session.execute(
              session.dialect.lockByIdStatement(WebhookDelivery),
              [row.id],
              {transaction: other},
            );
          }
          claimed = (await store.claim(3, LOCK_MS, 1)).filter(
            c => c.url === url,
          );
        } finally {
          await other.rollback();
        }
        expect(claimed.map(stepOfBody)).to.eql(['h3', 'h4', 'h5']);
        const rest = (await store.claim(3, LOCK_MS, 1)).filter(
          c => c.url === url,
        );
        expect(rest.map(stepOfBody)).to.eql(['h0', 'h1', 'h2']);
        await delivered([...claimed, ...rest]);
      });

      it('a run is no longer than asked, and ends at a follower that is not claimable', async () => {
        for (const step of ['a0', 'a1', 'a2', 'a3', 'a4']) {
          await completed('a', step);
        }
        const short = await claimHere(3);
        expect(short.runs.map(r => `${r.step}>${r.run}`)).to.eql([
          'a0>a0',
          'a1>a0',
          'a2>a0',
        ]);
        // Given back but the head: the others are behind it, not claimable.
        await store.release!(short.claimed.slice(1));
        expect((await claimHere(20)).runs).to.eql([]);
        // The head given back too: the whole run again, a3 and a4 with it.
        await store.release!(short.claimed.slice(0, 1));
        const again = await claimHere(20);
        expect(again.runs.map(r => `${r.step}>${r.run}`)).to.eql([
          'a0>a0',
          'a1>a0',
          'a2>a0',
          'a3>a0',
          'a4>a0',
        ]);
        // The head alone given back: its followers still held by the
        // claim, so its run ends right behind it.
        await store.release!(again.claimed.slice(0, 1));
        const alone = await claimHere(20);
        expect(alone.runs).to.eql([{step: 'a0', run: 'a0'}]);
        // A release names the claim: the old claim's token frees nothing.
        await store.release!(again.claimed.slice(0, 1));
        expect((await claimHere(20)).runs).to.eql([]);
        await delivered([...alone.claimed, ...again.claimed.slice(1)]);
        const rows = await deliveriesTo(url);
        expect(rows.map(r => `${r.n}:${r.status}:${r.totalAttempts}`)).to.eql(
          ['a0', 'a1', 'a2', 'a3', 'a4'].map(n => `${n}:delivered:1`),
        );
      });

      it('failures recorded together each hold back the deliveries behind them until their retry', async () => {
        for (const task of ['f', 'g']) {
          for (const n of [0, 1, 2]) await completed(task, `${task}${n}`);
        }
        const heads = (await claimHere(1)).claimed;
        expect(heads.map(stepOfBody).sort()).to.eql(['f0', 'g0']);
        const before = Date.now();
        await store.recordAll!(
          heads.map((claim, i) => ({
            claim,
            outcome: {
              statusCode: 500 + i,
              error: `HTTP ${500 + i}`,
              durationMs: 1,
              worker: 'test',
              delivered: false,
              dead: false,
              retryInMs: 60000,
            },
          })),
        );
        const rows = await deliveriesTo(url);
        const waits = Object.fromEntries(
          rows.map(r => [
            r.n,
            `${r.status}:${r.totalAttempts}:${
              r.nextAttemptOn.getTime() - before >= 50000 ? 'later' : 'now'
            }`,
          ]),
        );
        expect(waits).to.eql({
          f0: 'pending:1:later',
          f1: 'pending:0:later',
          f2: 'pending:0:later',
          g0: 'pending:1:later',
          g1: 'pending:0:later',
          g2: 'pending:0:later',
        });
        expect((await claimHere(20)).runs).to.eql([]);
      });

      it('a worker that stops gives back what it claimed but has not started', async () => {
        const receiver = await givenReceiver();
        await subscribe(receiver.url);
        let answer!: () => void;
        const answered = new Promise<void>(r => (answer = r));
        receiver.answer = async () => {
          await answered;
          return 204;
        };
        // Twenty tasks, one delivery each: twenty heads, no runs.
        for (let i = 0; i < 20; i++) {
          await store.enqueue(event({taskId: `stop-${i}`, step: `stop-${i}`}));
        }
        // Its worker claims 16: 8 posted (held by the receiver), 8 waiting.
        const worker = await givenApp();
        others.push(worker);
        await eventually(
          async () => receiver.received.length === 8,
          'eight requests held',
        );
        const stopping = (
          await worker.app.get(TaskHttpBindings.DELIVERY_WORKER)
        ).stop!();
        answer();
        await stopping;
        const rows = await db.rows<{
          status: string;
          lock_token: string | null;
          total_attempts: number;
        }>('webhook_deliveries', {where: {url: receiver.url}});
        const states = rows.map(
          r =>
            `${r.status}:${r.total_attempts}:${r.lock_token ? 'held' : 'free'}`,
        );
        expect(states.filter(x => x === 'delivered:1:free')).to.have.length(8);
        // None left held: the 8 waiting were given back, untried.
        expect(states.filter(x => x === 'pending:0:free')).to.have.length(12);
        expect(receiver.received).to.have.length(8);
      });
    });
  });
}
