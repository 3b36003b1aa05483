import {expect} from '@loopback/testlab';
import {EventWorkflowRepository} from '../../repositories';
import {
  EventReceiptStore,
  IncomingEventRow,
  StoredIncomingEvent,
  TaskSqlBindings,
} from '../../sql';
import {givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';

const event = (key: string, n: number): IncomingEventRow => ({
  key,
  source: 'test',
  payload: {n},
  timestamp: 1767225600000 + n,
});

describe('Incoming events stored together under load (PostgreSQL)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  let store: EventReceiptStore;

  before(async () => {
    db = await TestDatabase.create(['core']);
    t = await givenTestApp({db});
    store = await t.app.get(TaskSqlBindings.EVENT_RECEIPT_STORE);
    const mappings = await t.app.getRepository(EventWorkflowRepository);
    await mappings.create({eventKey: 'mapped', workflowKey: 'first'});
    await mappings.create({eventKey: 'mapped', workflowKey: 'second'});
  });
  after(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('stores each event once per source id, with its mappings, whatever arrives together', async () => {
    // Stored before: a redelivery of it stores nothing.
    const earlier = await store.storeAndMap!(event('mapped', 0), 'src-0');
    expect(earlier.id).to.be.a.String();

    const calls: [IncomingEventRow, string | undefined][] = [];
    for (let n = 1; n <= 60; n++) {
      const key = n % 3 === 0 ? 'mapped' : 'unmapped';
      // Every fifth has no source id; source ids repeat in pairs.
      calls.push([event(key, n), n % 5 === 0 ? undefined : `src-${n % 30}`]);
    }
    // A redelivery of the one stored before, among them.
    calls.splice(20, 0, [event('mapped', 61), 'src-0']);
    const results: StoredIncomingEvent[] = await Promise.all(
      calls.map(([e, source]) => store.storeAndMap!(e, source)),
    );

    const rows = await db.query<{id: string; n: string}>(
      `SELECT id::text, payload->>'n' AS n FROM main.events WHERE payload->>'n' <> '0'`,
    );
    const receipts = await db.query<{source_id: string; event_id: string}>(
      'SELECT source_id, event_id::text FROM main.event_receipts',
    );
    // One receipt per source id, each pointing at a stored event.
    const sources = new Set(calls.map(([, s]) => s).filter(Boolean));
    sources.add('src-0');
    expect(receipts.map(r => r.source_id).sort()).to.eql([...sources].sort());
    const storedIds = new Set(rows.map(r => r.id));
    storedIds.add(earlier.id!);
    for (const r of receipts) expect(storedIds.has(r.event_id)).to.be.true();

    // A call got an id exactly when it stored its event; every stored
    // event is the one a call got.
    const given = results.map(r => r.id).filter(Boolean);
    expect(new Set(given).size).to.equal(given.length);
    expect([...given].sort()).to.eql(rows.map(r => r.id).sort());
    // Without a source id, always stored; src-0 was stored before.
    calls.forEach(([e, source], i) => {
      if (!source) expect(results[i].id).to.be.a.String();
      if (source === 'src-0') expect(results[i].id).to.be.undefined();
      expect(results[i].workflowKeys).to.eql(
        e.key === 'mapped' ? ['first', 'second'] : [],
      );
    });
    // 12 without a source id; the 24 source ids (src-1 … src-29 less the
    // multiples of 5) each once, whichever of its pair came first.
    expect(rows).to.have.length(12 + 24);
    expect(results.filter(r => r.id === undefined)).to.have.length(24 + 1);
  });
});

interface StoredRow {
  id: string;
  key: string;
  payload: unknown;
  source: string;
}

for (const cell of dataCells()) {
  describe(`A fetched batch of incoming events stored in one go (${cell.name})`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    let store: EventReceiptStore;

    before(async () => {
      db = await givenCellDatabase(cell, ['core']);
      t = await givenTestApp({db});
      store = await t.app.get(TaskSqlBindings.EVENT_RECEIPT_STORE);
      const mappings = await t.app.getRepository(EventWorkflowRepository);
      await mappings.create({eventKey: 'mapped', workflowKey: 'first'});
      // Mappings come in the order they were made: a later millisecond.
      await new Promise(r => setTimeout(r, 5));
      await mappings.create({eventKey: 'mapped', workflowKey: 'second'});
      const gone = await mappings.create({
        eventKey: 'mapped',
        workflowKey: 'unmapped-since',
      });
      await mappings.deleteById(gone.id!);
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });

    async function storedRows(): Promise<(StoredRow & {n: number})[]> {
      const rows = await db.rows<StoredRow>('events', {
        columns: ['id', 'key', 'payload', 'source'],
      });
      return rows.map(r => {
        const payload = (
          typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload
        ) as {n: number};
        return {...r, id: String(r.id), payload, n: payload.n};
      });
    }

    async function receipts(): Promise<Map<string, string>> {
      const rows = await db.rows<{source_id: string; event_id: string}>(
        'event_receipts',
      );
      return new Map(rows.map(r => [r.source_id, String(r.event_id)]));
    }

    it('stores each event once per source id, in the order given, with the live mappings of its key', async () => {
      const [earlier] = await store.storeAndMapAll!([
        {event: event('mapped', 0), sourceId: 'batch-0'},
      ]);
      expect(earlier.id).to.be.a.String();
      expect(earlier.workflowKeys).to.eql(['first', 'second']);

      const batch = [
        {event: event('unmapped', 1), sourceId: 'batch-1'},
        {event: event('mapped', 2), sourceId: 'batch-2'},
        // A redelivery of one stored before.
        {event: event('mapped', 3), sourceId: 'batch-0'},
        // No source id: always stored.
        {event: event('unmapped', 4)},
        {event: event('mapped', 5)},
        // The same source id twice within the batch: the first is stored.
        {event: event('unmapped', 6), sourceId: 'batch-1'},
        {event: event('mapped', 7), sourceId: 'batch-7'},
      ];
      const results = await store.storeAndMapAll!(batch);

      expect(results.map(r => r.workflowKeys)).to.eql(
        batch.map(({event: e}) =>
          e.key === 'mapped' ? ['first', 'second'] : [],
        ),
      );
      const stored = results.map(r => r.id !== undefined);
      expect(stored).to.eql([true, true, false, true, true, false, true]);
      const rows = await storedRows();
      // Each id given is the row of that event, stored with what it carried.
      results.forEach((r, i) => {
        if (!r.id) return;
        const row = rows.find(x => x.id === r.id);
        expect(row).to.containDeep({
          key: batch[i].event.key,
          source: 'test',
          n: (batch[i].event.payload as {n: number}).n,
        });
      });
      expect(rows.map(r => r.n).sort()).to.eql([0, 1, 2, 4, 5, 7]);
      const bySource = await receipts();
      expect(bySource).to.eql(
        new Map([
          ['batch-0', earlier.id],
          ['batch-1', results[0].id],
          ['batch-2', results[1].id],
          ['batch-7', results[6].id],
        ]),
      );

      // The whole batch delivered again stores only the events without a
      // source id.
      const again = await store.storeAndMapAll!(batch);
      expect(again.map(r => r.id !== undefined)).to.eql([
        false,
        false,
        false,
        true,
        true,
        false,
        false,
      ]);
      expect(await storedRows()).to.have.length(rows.length + 2);
      expect(await receipts()).to.eql(bySource);
    });

    it('stores none of a batch when one of its events cannot be stored', async () => {
      const before = await storedRows();
      const receiptsBefore = await receipts();
      await expect(
        store.storeAndMapAll!([
          {event: event('unmapped', 100), sourceId: 'fails-100'},
          {event: event('x'.repeat(300), 101), sourceId: 'fails-101'},
          {event: event('mapped', 102)},
        ]),
      ).to.be.rejected();
      expect(await storedRows()).to.have.length(before.length);
      expect(await receipts()).to.eql(receiptsBefore);
      // Nothing of it was received: each is stored when it comes again.
      const [retried] = await store.storeAndMapAll!([
        {event: event('unmapped', 100), sourceId: 'fails-100'},
      ]);
      expect(retried.id).to.be.a.String();
    });
  });
}
