import {juggler, Options} from '@loopback/repository';
import {expect} from '@loopback/testlab';
import {IEvent, IOutgoingConnector} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {EventType} from '../../models';
import {EventOutbox} from '../../services';
import {OutboxEntry, TaskSqlBindings} from '../../sql';
import {TaskDbSourceName} from '../../types';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';
import {
  expectHeldBehind,
  expectQueuedBehind,
  makeDueAgain,
} from '../fixtures/waiting-rows';
import {bearer, tokenWith} from '../fixtures/tokens';

/**
 * An outgoing connector whose failures the test decides: `down` fails
 * everything, `refuse` fails the events it matches; the rest is recorded.
 */
class ScriptedConnector implements IOutgoingConnector {
  static instances = 0;
  /** What every instance published, in the order publish returned. */
  static published: IEvent[] = [];
  static down = false;
  static failNext = 0;
  static refuse: (event: IEvent) => boolean = () => false;
  static calls = 0;
  constructor() {
    ScriptedConnector.instances++;
  }
  async publish(event: IEvent) {
    ScriptedConnector.calls++;
    if (ScriptedConnector.down) throw new Error('broker unavailable');
    if (ScriptedConnector.failNext > 0) {
      ScriptedConnector.failNext--;
      throw new Error('broker hiccup');
    }
    if (ScriptedConnector.refuse(event)) throw new Error('message too large');
    ScriptedConnector.published.push(event);
  }
}

/** The payload field the tests number events by. */
function nOf(event: IEvent): string {
  return String(event.payload.n);
}

/** A JSON column as read raw: parsed by PostgreSQL's driver and MariaDB's, text on MySQL. */
function parsed(value: unknown): IEvent {
  return (typeof value === 'string' ? JSON.parse(value) : value) as IEvent;
}

/** The outbox's rows, in the order they were written. */
async function outboxRows(db: CellDatabase) {
  const rows = await db.rows<{
    id: string;
    event: unknown;
    attempts: number;
    created_on: Date;
    available_on: Date;
    parked_on: Date | null;
    published_on: Date | null;
    discarded_on: Date | null;
  }>('outbox_events', {orderBy: 'seq'});
  return rows.map(r => ({
    ...r,
    n: nOf(parsed(r.event)),
    parked: r.parked_on !== null,
    published: r.published_on !== null,
    discarded: r.discarded_on !== null,
  }));
}

/** The events of one task, in the order they were published. */
function publishedOf(taskId: string): string[] {
  return ScriptedConnector.published
    .filter(e => e.payload.taskId === taskId)
    .map(nOf);
}

for (const cell of dataCells()) {
  describe(`The outbox on ${cell.name}: durable, ordered per task, parks a poison event`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    let outbox: EventOutbox;
    let run = 0;

    before(async () => {
      ScriptedConnector.instances = 0;
      db = await givenCellDatabase(cell, ['core']);
      t = await givenTestApp({
        db,
        after: app => {
          // Transient, as the original's README binds connectors.
          app
            .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
            .toClass(ScriptedConnector);
          app.bind(TaskServiceBindings.OUTBOX_CONFIG).to({
            pollIntervalMs: 50,
            initialBackoffMs: 20,
            maxBackoffMs: 100,
            maxAttempts: 3,
          });
        },
      });
      outbox = await t.app.get<EventOutbox>('services.EventOutbox');
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });
    beforeEach(() => {
      run++;
      ScriptedConnector.published = [];
      ScriptedConnector.down = false;
      ScriptedConnector.failNext = 0;
      ScriptedConnector.refuse = () => false;
    });

    /** A task id of this test. */
    const task = (name: string) => `${name}-${run}`;

    function announce(taskId: string, n: number | string) {
      return outbox.announce(EventType.TaskCompleted, {taskId, n});
    }

    function rows() {
      return outboxRows(db);
    }

    it('retries a failing connector and publishes every event once, each task in the order written', async () => {
      ScriptedConnector.failNext = 4;
      for (let i = 0; i < 5; i++) {
        await announce(task('a'), `a${i}`);
        await announce(task('b'), `b${i}`);
      }
      await eventually(
        () => ScriptedConnector.published.length === 10,
        'ten events published',
      );
      expect(publishedOf(task('a'))).to.eql(['a0', 'a1', 'a2', 'a3', 'a4']);
      expect(publishedOf(task('b'))).to.eql(['b0', 'b1', 'b2', 'b3', 'b4']);
      expect(ScriptedConnector.published[0]).to.containDeep({
        key: 'task-completed',
        source: 'task-service',
      });
      // The connector has the event before the relay's round commits it.
      await eventually(
        async () =>
          (await db.rows('outbox_events', {where: {published_on: null}}))
            .length === 0,
        'every event recorded as published',
      );
      // Published events leave no ordering keys behind.
      expect(await db.rows('outbox_event_keys')).to.eql([]);
    });

    it('resolves a transient connector once, not a new client per round', async () => {
      expect(ScriptedConnector.instances).to.equal(1);
    });

    it('an event written in a rolled-back transaction is never published', async () => {
      const ds = await t.app.get<juggler.DataSource>(
        `datasources.${TaskDbSourceName}`,
      );
      const tx = await ds.beginTransaction({});
      await outbox.announce(
        EventType.TaskCreated,
        {createdTasks: [{id: task('gone')}]},
        {transaction: tx},
      );
      await tx.rollback();
      await announce(task('kept'), 'after');
      await eventually(
        () => ScriptedConnector.published.length === 1,
        'the committed event',
      );
      expect(ScriptedConnector.published.map(nOf)).to.eql(['after']);
    });

    it('a failing event holds back only the later events of its own tasks; events naming several tasks wait for each', async () => {
      ScriptedConnector.refuse = e => e.payload.n === 'a0';
      await announce(task('a'), 'a0');
      await announce(task('a'), 'a1');
      // Names a and c: waits for a0, and c's later events wait for it.
      await outbox.announce(EventType.TaskCreated, {
        createdTasks: [{id: task('c')}, {id: task('a')}],
        n: 'ac',
      });
      await announce(task('c'), 'c1');
      await announce(task('b'), 'b0');
      await announce(task('b'), 'b1');
      await outbox.announce(EventType.TaskCompleted, {n: 'about-no-task'});
      await eventually(
        () => ScriptedConnector.published.length === 3,
        "b's events and the one about no task",
      );
      await new Promise(r => setTimeout(r, 300));
      expect(ScriptedConnector.published.map(nOf).sort()).to.eql([
        'about-no-task',
        'b0',
        'b1',
      ]);
      expect(publishedOf(task('b'))).to.eql(['b0', 'b1']);
      // Only the failing event was tried; the ones behind it wait untried.
      const waiting = (await rows()).filter(r => !r.published);
      expect(waiting.map(r => r.n)).to.eql(['a0', 'a1', 'ac', 'c1']);
      expect(waiting.filter(r => r.attempts > 0).map(r => r.n)).to.eql(['a0']);

      // The connector takes it now (a replay, should it be parked by then):
      // everything follows, in order.
      ScriptedConnector.refuse = () => false;
      for (const parked of await outbox.listParked()) {
        await outbox.replay(parked.id);
      }
      await eventually(
        () => ScriptedConnector.published.length === 7,
        'the held-back events',
        20000,
      );
      const order = ScriptedConnector.published.map(nOf);
      expect(order.indexOf('a0')).to.be.below(order.indexOf('a1'));
      expect(order.indexOf('a0')).to.be.below(order.indexOf('ac'));
      expect(order.indexOf('a1')).to.be.below(order.indexOf('ac'));
      expect(order.indexOf('ac')).to.be.below(order.indexOf('c1'));
    });

    // key_count is a PostgreSQL claim's shortcut; MySQL reads the keys.
    if (cell.database === 'postgresql') {
      it('events written before key_count (NULL, as by an older version) keep the same order: a head on one of its keys only waits, one with no key goes', async function () {
        ScriptedConnector.refuse = e => e.payload.n === 'x0';
        const [x, y] = [task('x'), task('y')];
        // One statement, so the relay finds them all at once, with no
        // key_count, as rows written before the column was.
        await db.query(
          `WITH e(n, payload, keys) AS (
           VALUES (1, json_build_object('taskId', $1::text, 'n', 'x0'), ARRAY[$1]),
                  (2, json_build_object('taskId', $1::text, 'n', 'x1'), ARRAY[$1]),
                  (3, json_build_object('createdTasks', json_build_array(
                        json_build_object('id', $2::text), json_build_object('id', $1::text)),
                        'n', 'yx'), ARRAY[$2, $1]),
                  (4, json_build_object('taskId', $2::text, 'n', 'y1'), ARRAY[$2]),
                  (5, json_build_object('n', 'none'), ARRAY[]::text[])
         ), added AS (
           INSERT INTO main.outbox_events (key, event)
           SELECT 'task-completed',
                  json_build_object('key', 'task-completed', 'payload', payload,
                                    'timestamp', 1, 'source', 'test')
             FROM e ORDER BY n
           RETURNING id, seq, event->'payload'->>'n' AS n
         )
         INSERT INTO main.outbox_event_keys (event_id, ordering_key, seq)
         SELECT added.id, k.key, added.seq
           FROM added JOIN e ON e.payload->>'n' = added.n
           CROSS JOIN unnest(e.keys) AS k(key)`,
          [x, y],
        );
        outbox.relaySoon();
        await eventually(
          () => ScriptedConnector.published.length === 1,
          'the event with no key',
        );
        await new Promise(r => setTimeout(r, 300));
        // yx heads y's queue but not x's: it waits for x0, and y1 behind it.
        expect(ScriptedConnector.published.map(nOf)).to.eql(['none']);

        ScriptedConnector.refuse = () => false;
        for (const parked of await outbox.listParked()) {
          await outbox.replay(parked.id);
        }
        await eventually(
          () => ScriptedConnector.published.length === 5,
          'the held-back events',
          20000,
        );
        expect(ScriptedConnector.published.map(nOf)).to.eql([
          'none',
          'x0',
          'x1',
          'yx',
          'y1',
        ]);
      });
    }

    describe('parking', () => {
      const admin = bearer(
        tokenWith(['ViewEvent', 'ReplayEvent', 'DiscardEvent']),
      );

      it('parks a poison event after maxAttempts while other tasks flow; lists and counts it', async () => {
        ScriptedConnector.refuse = e => e.payload.n === 'p0';
        await announce(task('p'), 'p0');
        await announce(task('p'), 'p1');
        // Other tasks keep the connector busy, so it is seen to work.
        let i = 0;
        const parkedRow = await eventually(
          async () => {
            await announce(task(`other${i}`), `o${i++}`);
            return (await rows()).find(r => r.parked);
          },
          'the parked event',
          20000,
          100,
        );
        // maxAttempts, or the first failure after it that followed a publish.
        expect(parkedRow.attempts).to.be.aboveOrEqual(3);
        await eventually(
          () => ScriptedConnector.published.length === i,
          'every event of the other tasks',
        );
        expect(publishedOf(task('p'))).to.eql([]);

        const listed = await t.client
          .get('/events/outbox/parked')
          .set(admin)
          .expect(200);
        expect(listed.body).to.have.length(1);
        expect(listed.body[0]).to.containDeep({
          id: parkedRow.id,
          key: 'task-completed',
          attempts: parkedRow.attempts,
          lastError: 'message too large',
          event: {payload: {taskId: task('p'), n: 'p0'}},
        });
        expect(listed.body[0].parkedOn).to.be.a.String();
        const count = await t.client
          .get('/events/outbox/parked/count')
          .set(admin)
          .expect(200);
        expect(count.body).to.eql({count: 1});
        expect(await outbox.countParked()).to.equal(1);
        // p1 waits behind it, not parked, not tried, out of the relay's way
        // until the parked one is replayed or discarded: the oldest pending.
        const p1 = (await rows()).find(r => r.n === 'p1')!;
        const yearFromNow = Date.now() + 366 * 24 * 3600 * 1000;
        expect({
          attempts: p1.attempts,
          held: p1.available_on.getTime() > yearFromNow,
        }).to.eql({attempts: 0, held: true});
        expect(await outbox.oldestPending()).to.eql(p1.created_on);
      });

      it('a replay publishes the parked event, then the ones behind it, in order', async () => {
        const parked = (await rows()).find(r => r.parked)!;
        await t.client
          .post(`/events/outbox/parked/${parked.id}/replay`)
          .set(bearer(tokenWith(['ViewEvent'])))
          .expect(403);
        await t.client
          .post(`/events/outbox/parked/${parked.id}/replay`)
          .set(admin)
          .expect(204);
        await eventually(
          () => ScriptedConnector.published.length === 2,
          'the replayed event and the one behind it',
        );
        expect(ScriptedConnector.published.map(nOf)).to.eql(['p0', 'p1']);
        expect(await outbox.countParked()).to.equal(0);
        // The connector has them before the relay's round commits.
        await eventually(
          async () => (await outbox.oldestPending()) === undefined,
          'nothing left to publish',
        );
        await t.client
          .post(`/events/outbox/parked/${parked.id}/replay`)
          .set(admin)
          .expect(404);
      });

      it('an event that shares a task only with one waiting behind a parked event goes once that one has', async () => {
        ScriptedConnector.refuse = e => e.payload.n === 'c0';
        await announce(task('c'), 'c0');
        let i = 0;
        const parked = await eventually(
          async () => {
            await announce(task(`chain${i}`), `chain${i++}`);
            return (await outbox.listParked())[0];
          },
          'the parked event',
          20000,
          100,
        );
        // Waits behind c0 (task c), and concerns task e as well.
        await outbox.announce(EventType.TaskCreated, {
          n: 'ce',
          createdTasks: [{id: task('c')}, {id: task('e')}],
        });
        // Concerns only task e: it waits behind 'ce', not behind c0.
        await announce(task('e'), 'e1');
        ScriptedConnector.refuse = () => false;
        await t.client
          .post(`/events/outbox/parked/${parked.id}/replay`)
          .set(admin)
          .expect(204);
        await eventually(
          () => publishedOf(task('e')).length === 1,
          'the event of task e alone, after the chain',
          15000,
        );
        const order = ScriptedConnector.published.map(nOf);
        expect(order.indexOf('c0')).to.be.below(order.indexOf('ce'));
        expect(order.indexOf('ce')).to.be.below(order.indexOf('e1'));
      });

      it('a discard gives the parked event up and lets the ones behind it go', async () => {
        ScriptedConnector.refuse = e => e.payload.n === 'd0';
        await announce(task('d'), 'd0');
        await announce(task('d'), 'd1');
        let i = 0;
        const parked = await eventually(
          async () => {
            await announce(task(`busy${i}`), `busy${i++}`);
            return (await outbox.listParked())[0];
          },
          'the parked event',
          20000,
          100,
        );
        await t.client
          .delete(`/events/outbox/parked/${parked.id}`)
          .set(bearer(tokenWith(['ReplayEvent'])))
          .expect(403);
        await t.client
          .delete(`/events/outbox/parked/${parked.id}`)
          .set(admin)
          .expect(204);
        await eventually(
          () => publishedOf(task('d')).length === 1,
          'the event behind the discarded one',
        );
        expect(publishedOf(task('d'))).to.eql(['d1']);
        const row = (await rows()).find(r => r.id === parked.id)!;
        expect({
          discarded: row.discarded,
          parked: row.parked,
          published: row.published,
        }).to.eql({discarded: true, parked: false, published: false});
        await t.client
          .delete(`/events/outbox/parked/${parked.id}`)
          .set(admin)
          .expect(404);
        await t.client
          .delete('/events/outbox/parked/not-a-uuid')
          .set(admin)
          .expect(400);
      });

      it('an outage of the connector parks nothing: every event is published once it is back', async () => {
        ScriptedConnector.down = true;
        const callsBefore = ScriptedConnector.calls;
        await announce(task('x'), 'x0');
        await announce(task('x'), 'x1');
        await announce(task('y'), 'y0');
        // Well past maxAttempts tries of each first event.
        await eventually(
          () => ScriptedConnector.calls - callsBefore >= 12,
          'a dozen failed publishes',
        );
        expect(await outbox.countParked()).to.equal(0);
        ScriptedConnector.down = false;
        await eventually(
          () => ScriptedConnector.published.length === 3,
          'the events after the outage',
        );
        expect(publishedOf(task('x'))).to.eql(['x0', 'x1']);
        expect(publishedOf(task('y'))).to.eql(['y0']);
        expect(await outbox.countParked()).to.equal(0);
      });

      it('lists the routes in the OpenAPI document', async () => {
        const res = await t.client.get('/openapi.json').expect(200);
        expect(Object.keys(res.body.paths)).to.containDeep([
          '/events/outbox/parked',
          '/events/outbox/parked/count',
          '/events/outbox/parked/{id}/replay',
          '/events/outbox/parked/{id}',
        ]);
        expect(
          Object.keys(res.body.paths['/events/outbox/parked/{id}']),
        ).to.eql(['delete']);
      });
    });
  });

  describe(`Relays claiming at once on ${cell.name} share the due events`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;

    before(async () => {
      db = await givenCellDatabase(cell, ['core']);
      // The app's own relay stays asleep: the claims below are the test's.
      t = await givenTestApp({
        db,
        after: app =>
          app
            .bind(TaskServiceBindings.OUTBOX_CONFIG)
            .to({pollIntervalMs: 3_600_000}),
      });
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });

    it('a relay takes the due events another holds not, while that one holds its own', async () => {
      const store = await t.app.get(TaskSqlBindings.OUTBOX_STORE);
      const transactions = await t.app.get(TaskSqlBindings.TASK_TRANSACTIONS);
      for (let task = 0; task < 6; task++) {
        await store.add({
          key: 'task-completed',
          payload: {taskId: `share-${task}`},
          timestamp: 1767225600000 + task,
          source: 'test',
        });
      }
      let release!: () => void;
      const released = new Promise<void>(resolve => (release = resolve));
      let holding!: () => void;
      const held = new Promise<void>(resolve => (holding = resolve));
      const claim = (options: Options) =>
        store
          .claimDue(3, options)
          .then(entries => entries.map(e => e.event.payload.taskId));
      let first: string[] = [];
      const firstRound = transactions.run(async options => {
        first = await claim(options);
        holding();
        await released;
      });
      await held;
      let second: string[] = [];
      try {
        second = await transactions.run(claim);
      } finally {
        release();
        await firstRound;
      }
      expect(first).to.eql(['share-0', 'share-1', 'share-2']);
      expect(second).to.eql(['share-3', 'share-4', 'share-5']);
    });

    it('a claim keeps the events behind a failed or parked one out of its range, also those added before the failure showed', async () => {
      const store = await t.app.get(TaskSqlBindings.OUTBOX_STORE);
      const transactions = await t.app.get(TaskSqlBindings.TASK_TRANSACTIONS);
      // Three events each of two tasks: the first of each is claimed and
      // fails (one for an hour, one parked), which moves the two behind it.
      for (const taskId of ['later', 'parked']) {
        for (let n = 0; n < 3; n++) {
          await store.add({
            key: 'task-completed',
            payload: {taskId, n: `${taskId}${n}`},
            timestamp: 1767225600000 + n,
            source: 'test',
          });
        }
      }
      const mine = (entries: OutboxEntry[]) =>
        entries
          .map(e => String(e.event.payload.n))
          .filter(n => /^(later|parked)\d$/.test(n));
      await transactions.run(async options => {
        const heads = await store.claimDue(20, options);
        for (const head of heads.filter(e => mine([e]).length)) {
          await store.markFailed(
            head.id,
            {
              error: 'receiver down',
              retryInMs: 3_600_000,
              park: head.event.payload.taskId === 'parked',
              attemptedOn: new Date(),
            },
            options,
          );
        }
        expect(mine(heads).sort()).to.eql(['later0', 'parked0']);
      });
      // One added after the failures waits too: for the failed one's next try, and for
      // ever behind the parked one (the first of its key).
      for (const taskId of ['later', 'parked']) {
        await store.add({
          key: 'task-completed',
          payload: {taskId, n: `${taskId}3`},
          timestamp: 1767225600003,
          source: 'test',
        });
      }
      const added = new Map((await outboxRows(db)).map(r => [r.n, r]));
      expectQueuedBehind(n => added.get(n)!.available_on, 'later', 'parked');
      // As if they were added while the failures were being recorded (their
      // add read the times from before): due again.
      const followers = (await outboxRows(db))
        .filter(r => /^(later|parked)[12]$/.test(r.n))
        .map(r => r.id);
      expect(followers).to.have.length(4);
      await makeDueAgain(t, db, 'outbox_events', 'available_on', followers);
      const next = await transactions.run(options =>
        store.claimDue(20, options),
      );
      expect(mine(next)).to.eql([]);
      // MySQL's claim tests every due event, so it put them back out of its
      // range; PostgreSQL's reads only the first event of each key.
      if (db.cell.database === 'postgresql') return;
      const byN = new Map((await outboxRows(db)).map(r => [r.n, r]));
      expectHeldBehind(n => byN.get(n)!.available_on, 'later', 'parked');
    });
  });

  for (const batches of [false, true]) {
    describe(`Two relays on one ${cell.name} database keep each task in order${batches ? ', publishing batches' : ''}`, function () {
      this.timeout(60000);
      let db: CellDatabase;
      const apps: TestApp[] = [];
      /** Every publish of both apps, in the order publish returned. */
      const timeline: {app: number; event: IEvent}[] = [];

      /** Slow and now and then failing, so both relays interleave. */
      class SharedConnector implements IOutgoingConnector {
        constructor(private readonly app: number) {}
        async publish(event: IEvent) {
          await new Promise(r => setTimeout(r, Math.random() * 4));
          if (Math.random() < 0.1) throw new Error('hiccup');
          timeline.push({app: this.app, event});
        }
      }

      /** The same, taking a round's events at once: all or nothing. */
      class SharedBatchConnector extends SharedConnector {
        constructor(private readonly batchApp: number) {
          super(batchApp);
        }
        async publishBatch(events: IEvent[]) {
          await new Promise(r => setTimeout(r, Math.random() * 8));
          if (Math.random() < 0.2) throw new Error('hiccup');
          for (const event of events)
            timeline.push({app: this.batchApp, event});
        }
      }

      before(async () => {
        db = await givenCellDatabase(cell, ['core']);
        for (let i = 0; i < 2; i++) {
          apps.push(
            await givenTestApp({
              db,
              outgoing: batches
                ? new SharedBatchConnector(i)
                : new SharedConnector(i),
              after: app =>
                app.bind(TaskServiceBindings.OUTBOX_CONFIG).to({
                  pollIntervalMs: 20,
                  initialBackoffMs: 10,
                  maxBackoffMs: 50,
                  batchSize: batches ? 12 : 5,
                  pageSize: 4,
                  maxEventsPerTask: batches ? 4 : 500,
                }),
            }),
          );
        }
      });
      after(async () => {
        for (const t of apps) await t.stop();
        await db?.drop();
      });

      it('20 tasks × 10 events written from both apps: each published once, each task in order', async () => {
        const outboxes = await Promise.all(
          apps.map(t => t.app.get<EventOutbox>('services.EventOutbox')),
        );
        const writes: Promise<void>[] = [];
        for (let task = 0; task < 20; task++) {
          writes.push(
            (async () => {
              for (let n = 0; n < 10; n++) {
                await outboxes[(task + n) % 2].announce(
                  EventType.TaskCompleted,
                  {
                    taskId: `task-${task}`,
                    n,
                  },
                );
              }
            })(),
          );
        }
        await Promise.all(writes);
        await eventually(() => timeline.length >= 200, '200 events', 30000);
        await new Promise(r => setTimeout(r, 300));
        expect(timeline).to.have.length(200);
        for (let task = 0; task < 20; task++) {
          expect(
            timeline
              .filter(({event}) => event.payload.taskId === `task-${task}`)
              .map(({event}) => event.payload.n),
          ).to.eql([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        }
        // Both relays took part.
        expect(new Set(timeline.map(p => p.app))).to.eql(new Set([0, 1]));
        const left = await db.rows('outbox_events', {
          where: {published_on: null},
        });
        expect(left).to.have.length(0);
      });
    });
  }

  describe(`The relay on ${cell.name} hands a connector with publishBatch a round at once`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    let outbox: EventOutbox;
    /** Every call: the events of a batch, or one event alone. */
    const calls: {batch: boolean; events: IEvent[]}[] = [];
    let refuse: (event: IEvent) => boolean = () => false;

    /** All or nothing, as a broker request: a refused event fails its batch. */
    class BatchConnector implements IOutgoingConnector {
      async publish(event: IEvent) {
        if (refuse(event)) throw new Error('message too large');
        calls.push({batch: false, events: [event]});
      }
      async publishBatch(events: IEvent[]) {
        if (events.some(refuse)) throw new Error('message too large');
        calls.push({batch: true, events});
      }
    }

    const published = () => calls.flatMap(c => c.events);
    const publishedOfTask = (taskId: string) =>
      published()
        .filter(e => e.payload.taskId === taskId)
        .map(nOf);

    before(async () => {
      db = await givenCellDatabase(cell, ['core']);
      t = await givenTestApp({
        db,
        outgoing: new BatchConnector(),
        after: app =>
          app.bind(TaskServiceBindings.OUTBOX_CONFIG).to({
            pollIntervalMs: 50,
            // Long enough that a failed event is not due again in the
            // rounds right after its own: the rounds below are exact.
            initialBackoffMs: 1500,
            maxBackoffMs: 1500,
            batchSize: 10,
            pageSize: 4,
            maxEventsPerTask: 4,
          }),
      });
      outbox = await t.app.get<EventOutbox>('services.EventOutbox');
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });
    beforeEach(() => {
      calls.length = 0;
      refuse = () => false;
    });

    /** Written in one transaction, so the relay finds them all at once. */
    async function announceAll(events: {taskId: string; n: string}[]) {
      const ds = await t.app.get<juggler.DataSource>(
        `datasources.${TaskDbSourceName}`,
      );
      const transaction = await ds.beginTransaction({});
      for (const payload of events) {
        await outbox.announce(EventType.TaskCompleted, payload, {transaction});
      }
      await transaction.commit();
      outbox.relaySoon();
    }

    /** The events of `tasks`, `count` each, written task after task in turn. */
    function eventsOf(tasks: string[], count: number) {
      const events = [];
      for (let n = 0; n < count; n++) {
        for (const taskId of tasks) events.push({taskId, n: `${taskId}${n}`});
      }
      return events;
    }

    async function allRecorded() {
      await eventually(
        async () =>
          (await db.rows('outbox_events', {where: {published_on: null}}))
            .length === 0,
        'every event recorded as published',
      );
    }

    /** The calls, each as its events' names, a lone event marked `1:`. */
    const shapes = () =>
      calls.map(c => c.events.map(e => (c.batch ? '' : '1:') + nOf(e)));

    it('shares a round’s room among tasks in turns, in pages, each task in order: exact rounds', async () => {
      await announceAll(eventsOf(['x', 'y', 'z'], 5));
      await eventually(() => published().length === 15, 'fifteen events');
      // batchSize 10 in pages of 4: the claimed event of each task, then
      // the events queued behind them in turns, counted across pages (x's
      // fourth is its last of the round: maxEventsPerTask 4); the rest in
      // the next round, whose last page is one event, published alone.
      expect(shapes()).to.eql([
        ['x0', 'y0', 'z0', 'x1'],
        ['y1', 'z1', 'x2', 'y2'],
        ['z2', 'x3'],
        ['y3', 'z3', 'x4', 'y4'],
        ['1:z4'],
      ]);
      await allRecorded();
    });

    it('a run ends before an event that names another task too: it goes once both tasks are there', async () => {
      await announceAll([
        {taskId: 'm', n: 'm0'},
        {taskId: 'm', n: 'm1'},
        {taskId: 'k', n: 'k0'},
        // Names m and k: after m1 and k0, and never in the same round as
        // events queued behind only one of them.
        {createdTasks: [{id: 'm'}, {id: 'k'}], n: 'mk'},
        {taskId: 'm', n: 'm2'},
        {taskId: 'k', n: 'k1'},
      ] as never);
      await eventually(() => published().length === 6, 'six events');
      expect(publishedOfTask('m')).to.eql(['m0', 'm1', 'm2']);
      // Round 1: m0 m1 k0; round 2: mk; round 3: m2 k1.
      expect(shapes()).to.eql([['m0', 'k0', 'm1'], ['1:mk'], ['m2', 'k1']]);
      await allRecorded();
    });

    it('a batch that fails goes one by one: only the failing event and its task wait', async () => {
      refuse = e => e.payload.n === 'p0';
      await announceAll([
        {taskId: 'p', n: 'p0'},
        {taskId: 'q', n: 'q0'},
        {taskId: 'p', n: 'p1'},
        {taskId: 'q', n: 'q1'},
      ]);
      await eventually(() => publishedOfTask('q').length === 2, "q's events");
      expect(publishedOfTask('q')).to.eql(['q0', 'q1']);
      expect(publishedOfTask('p')).to.eql([]);
      refuse = () => false;
      await eventually(
        () => publishedOfTask('p').length === 2,
        "p's events",
        20000,
      );
      expect(publishedOfTask('p')).to.eql(['p0', 'p1']);
      await allRecorded();
    });

    it('an event refused in the middle of a task’s run, in a later page, holds back the rest of that run only', async () => {
      let refused = 0;
      refuse = e => e.payload.n === 'r2' && refused++ < 2;
      await announceAll(eventsOf(['r', 's'], 4));
      await eventually(() => publishedOfTask('r').length === 4, "r's events");
      expect(publishedOfTask('r')).to.eql(['r0', 'r1', 'r2', 'r3']);
      expect(publishedOfTask('s')).to.eql(['s0', 's1', 's2', 's3']);
      // The second page failed, then went one by one: r2 failed again, so
      // r3 waited for it; s went on. r2 and r3 after r2's backoff.
      expect(shapes()).to.eql([
        ['r0', 's0', 'r1', 's1'],
        ['1:s2'],
        ['1:s3'],
        ['r2', 'r3'],
      ]);
      await allRecorded();
    });

    it('a page that fails ends its round: the pages read behind it wait for the next', async () => {
      let refused = 0;
      refuse = e => e.payload.n === 'r1' && refused++ < 2;
      await announceAll(eventsOf(['r', 's'], 4));
      await eventually(() => publishedOfTask('r').length === 4, "r's events");
      expect(publishedOfTask('r')).to.eql(['r0', 'r1', 'r2', 'r3']);
      expect(publishedOfTask('s')).to.eql(['s0', 's1', 's2', 's3']);
      // The first page failed and went one by one (r1 failed again); the
      // second page (r2 s2 r3 s3) was not published behind it: s2 and s3
      // came in the next round, r1 r2 r3 after r1's backoff.
      expect(shapes()).to.eql([
        ['1:r0'],
        ['1:s0'],
        ['1:s1'],
        ['s2', 's3'],
        ['r1', 'r2', 'r3'],
      ]);
      await allRecorded();
    });
  });
}
