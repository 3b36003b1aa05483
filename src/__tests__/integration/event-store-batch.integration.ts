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
