import {expect, sinon} from '@loopback/testlab';
import {IEvent} from '../../interfaces';
import {EventRepository, EventWorkflowRepository} from '../../repositories';
import {
  eventBusinessKey,
  EventProcessorService,
  WorkflowService,
} from '../../services';
import {EventReceiptStore} from '../../sql';
import {FakeTransactions} from '../fixtures/fake-transactions';
import {TaskLogger} from '../../observability/types';

describe('EventProcessorService (unit)', () => {
  let created: object[];
  let started: string[];
  let receipts: sinon.SinonStubbedInstance<EventReceiptStore>;
  let businessKeys: (string | undefined)[];
  let found: string[];
  /** Instances the engine holds by business key before the delivery. */
  let startedBefore: Map<string, {id: string; definitionId: string}>;

  /** The debug lines written, as `[message, eventKey]`. */
  let debugLines: [string, unknown][];

  function processor(filter?: (e: IEvent) => boolean) {
    debugLines = [];
    startedBefore = new Map();
    created = [];
    started = [];
    const events = {
      create: async (data: object) => {
        created.push(data);
        return {id: `event-${created.length}`};
      },
    } as unknown as EventRepository;
    const mappings = {
      find: async () => [
        {workflowKey: 'first:1:a'},
        {workflowKey: 'second:1:b'},
      ],
    } as unknown as EventWorkflowRepository;
    businessKeys = [];
    found = [];
    const workflows = {
      startIfKnown: async (
        key: string,
        _input: object,
        _cause: string,
        options?: {businessKey?: string},
      ) => {
        started.push(key);
        businessKeys.push(options?.businessKey);
        return {id: `instance-of-${key}`, definitionId: key};
      },
      findStarted: async (businessKey: string) => {
        found.push(businessKey);
        return startedBefore.get(businessKey);
      },
    } as unknown as WorkflowService;
    receipts = {
      claim: sinon.stub<[string, string, object], Promise<boolean>>(),
      eventIdOf: sinon.stub<[string], Promise<string | undefined>>(),
      claimStart: sinon.stub<[string, string, object], Promise<boolean>>(),
      recordStart: sinon.stub<
        [string, string, string | undefined, object?],
        Promise<void>
      >(),
    };
    return new EventProcessorService(
      events,
      mappings,
      receipts,
      new FakeTransactions(),
      workflows,
      filter,
      {
        debug: (fields: {eventKey?: unknown}, message: string) =>
          debugLines.push([message, fields.eventKey]),
        info: () => {},
      } as unknown as TaskLogger,
    );
  }

  const event: IEvent = {
    key: 'order.created',
    payload: {source: 'shop', amount: 3},
    timestamp: 1000,
    source: 'kafka',
  };

  it('stores the event (source and description from the payload or defaults) and starts every mapped workflow', async () => {
    await processor().handle(event);
    expect(created).to.eql([
      {
        key: 'order.created',
        payload: {source: 'shop', amount: 3},
        timestamp: 1000,
        source: 'shop',
        description: 'Task for order.created',
      },
    ]);
    expect(started).to.eql(['first:1:a', 'second:1:b']);
    // Without a source id no delivery repeats it: nothing to look up later.
    sinon.assert.notCalled(receipts.recordStart);
    // One business key per event and mapping.
    expect(businessKeys).to.eql([
      eventBusinessKey('event-1', 'first:1:a'),
      eventBusinessKey('event-1', 'second:1:b'),
    ]);
    expect(new Set(businessKeys).size).to.equal(2);
    sinon.assert.notCalled(receipts.claim);
    sinon.assert.notCalled(receipts.claimStart);
    expect(found).to.eql([]);
  });

  it('drops what the filter refuses before storing it', async () => {
    await processor(() => false).handle(event);
    expect(created).to.eql([]);
    expect(started).to.eql([]);
    expect(debugLines).to.containDeep([
      ['Event dropped by the filter', 'order.created'],
    ]);
  });

  it('a redelivery (same source id) reuses the stored event and starts only what had not started', async () => {
    const p = processor();
    receipts.claim.resolves(false);
    receipts.eventIdOf.resolves('event-from-first-delivery');
    receipts.claimStart.callsFake(async (_id, key) => key !== 'first:1:a');
    await p.handle({...event, id: 'kafka:orders:0:7'});
    expect(receipts.claim.args[0].slice(0, 2)).to.eql([
      'kafka:orders:0:7',
      'event-1',
    ]);
    expect(started).to.eql(['second:1:b']);
    expect(receipts.recordStart.args.map(a => a.slice(0, 3))).to.eql([
      ['event-from-first-delivery', 'second:1:b', 'instance-of-second:1:b'],
    ]);
    // Each start claimed and recorded in the same transaction.
    expect(receipts.recordStart.args[0][3]).to.eql({transaction: 'fake'});
  });

  it('a redelivery records the instance an unrecorded start made, and starts nothing again', async () => {
    const p = processor();
    receipts.claim.resolves(false);
    receipts.eventIdOf.resolves('event-0');
    receipts.claimStart.resolves(true);
    startedBefore.set(eventBusinessKey('event-0', 'first:1:a'), {
      id: 'instance-before-the-crash',
      definitionId: 'first:1:a',
    });
    await p.handle({...event, id: 'kafka:orders:0:8'});
    expect(found).to.eql([
      eventBusinessKey('event-0', 'first:1:a'),
      eventBusinessKey('event-0', 'second:1:b'),
    ]);
    expect(started).to.eql(['second:1:b']);
    expect(receipts.recordStart.args.map(a => a.slice(0, 3))).to.eql([
      ['event-0', 'first:1:a', 'instance-before-the-crash'],
      ['event-0', 'second:1:b', 'instance-of-second:1:b'],
    ]);
  });

  it('a first delivery with a source id claims each start and looks nothing up', async () => {
    const p = processor();
    receipts.claim.resolves(true);
    receipts.claimStart.resolves(true);
    await p.handle({...event, id: 'kafka:orders:0:9'});
    expect(started).to.eql(['first:1:a', 'second:1:b']);
    expect(found).to.eql([]);
    expect(receipts.claimStart.args.map(a => a.slice(0, 2))).to.eql([
      ['event-1', 'first:1:a'],
      ['event-1', 'second:1:b'],
    ]);
  });

  it('a batch: the filter, one store for the kept events, and what is left of each to run later', async () => {
    const p = processor(e => e.payload.amount !== 0);
    const storeAndMapAll = sinon.stub().resolves([
      {id: 'event-a', workflowKeys: ['first:1:a']},
      {id: undefined, workflowKeys: ['first:1:a']},
      {id: 'event-c', workflowKeys: []},
    ]);
    Object.assign(receipts, {storeAndMapAll});
    receipts.claimStart.resolves(true);
    receipts.eventIdOf.resolves('event-stored-before');
    const batch: IEvent[] = [
      {...event, id: 's-a'},
      {...event, id: 's-dropped', payload: {amount: 0}},
      {...event, id: 's-b'},
      {...event, id: 's-c', key: 'unmapped'},
    ];
    const left = await p.handleBatch(batch);
    expect(
      debugLines.filter(([message]) => message.includes('dropped')),
    ).to.eql([['Event dropped by the filter', 'order.created']]);
    sinon.assert.calledOnce(storeAndMapAll);
    expect(
      storeAndMapAll.args[0][0].map((e: {sourceId: string}) => e.sourceId),
    ).to.eql(['s-a', 's-b', 's-c']);
    // Dropped, or nothing mapped: nothing left.
    expect(left.map(l => typeof l)).to.eql([
      'function',
      'undefined',
      'function',
      'undefined',
    ]);
    expect(started).to.eql([]);

    await left[0]!();
    expect(found).to.eql([]);
    // Stored before (a redelivery): its event looked up, then the engine
    // asked before starting.
    await left[2]!();
    expect(found).to.eql([
      eventBusinessKey('event-stored-before', 'first:1:a'),
    ]);
    // A retry after a start failed looks for what the first try started.
    await left[0]!();
    expect(found).to.have.length(2);
    expect(found[1]).to.equal(eventBusinessKey('event-a', 'first:1:a'));
    expect(started).to.eql(['first:1:a', 'first:1:a', 'first:1:a']);
  });
});
