import {expect, sinon} from '@loopback/testlab';
import {IEvent} from '../../interfaces';
import {EventRepository, EventWorkflowRepository} from '../../repositories';
import {EventProcessorService, WorkflowService} from '../../services';
import {EventReceiptStore} from '../../sql';
import {FakeTransactions} from '../fixtures/fake-transactions';

describe('EventProcessorService (unit)', () => {
  let created: object[];
  let started: string[];
  let receipts: sinon.SinonStubbedInstance<EventReceiptStore>;

  function processor(filter?: (e: IEvent) => boolean) {
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
    const workflows = {
      startIfKnown: async (key: string) => {
        started.push(key);
        return {id: `instance-of-${key}`, definitionId: key};
      },
    } as unknown as WorkflowService;
    receipts = {
      claim: sinon.stub<[string, string, object], Promise<boolean>>(),
      eventIdOf: sinon.stub<[string], Promise<string | undefined>>(),
      hasStarted: sinon.stub<[string, string], Promise<boolean>>(),
      recordStart: sinon.stub<[string, string, string?], Promise<void>>(),
    };
    return new EventProcessorService(
      events,
      mappings,
      receipts,
      new FakeTransactions(),
      workflows,
      filter,
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
    sinon.assert.notCalled(receipts.claim);
  });

  it('with a source id, records each workflow it started', async () => {
    const p = processor();
    receipts.claim.resolves(true);
    await p.handle({...event, id: 'kafka:orders:0:3'});
    expect(receipts.recordStart.args).to.eql([
      ['event-1', 'first:1:a', 'instance-of-first:1:a'],
      ['event-1', 'second:1:b', 'instance-of-second:1:b'],
    ]);
  });

  it('drops what the filter refuses before storing it', async () => {
    await processor(() => false).handle(event);
    expect(created).to.eql([]);
    expect(started).to.eql([]);
  });

  it('a redelivery (same source id) reuses the stored event and starts only what had not started', async () => {
    const p = processor();
    receipts.claim.resolves(false);
    receipts.eventIdOf.resolves('event-from-first-delivery');
    receipts.hasStarted.callsFake(async (_id, key) => key === 'first:1:a');
    await p.handle({...event, id: 'kafka:orders:0:7'});
    expect(receipts.claim.args[0].slice(0, 2)).to.eql([
      'kafka:orders:0:7',
      'event-1',
    ]);
    expect(started).to.eql(['second:1:b']);
    expect(receipts.recordStart.args).to.eql([
      ['event-from-first-delivery', 'second:1:b', 'instance-of-second:1:b'],
    ]);
  });
});
