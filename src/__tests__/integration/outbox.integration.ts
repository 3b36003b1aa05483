import {expect} from '@loopback/testlab';
import {IEvent, IOutgoingConnector} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {EventType} from '../../models';
import {EventOutbox} from '../../services';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';

/** An outgoing connector that is down for its first `failures` calls. */
class FlakyConnector implements IOutgoingConnector {
  static instances = 0;
  static published: IEvent[] = [];
  static failures = 0;
  constructor() {
    FlakyConnector.instances++;
  }
  async publish(event: IEvent) {
    if (FlakyConnector.failures > 0) {
      FlakyConnector.failures--;
      throw new Error('broker unavailable');
    }
    FlakyConnector.published.push(event);
  }
}

describe('The outbox on PostgreSQL: durable, ordered, one connector', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  let outbox: EventOutbox;

  before(async () => {
    db = await TestDatabase.create(['core']);
    t = await givenTestApp({
      db,
      // Transient, as the original's README binds connectors.
      after: app =>
        app
          .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
          .toClass(FlakyConnector),
    });
    outbox = await t.app.get<EventOutbox>('services.EventOutbox');
  });
  after(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('retries a failing connector and publishes every event once, in order', async () => {
    FlakyConnector.failures = 3;
    for (let i = 0; i < 5; i++) {
      await outbox.announce(EventType.TaskCompleted, {taskId: `t-${i}`});
    }
    await eventually(
      () => FlakyConnector.published.length === 5,
      'five events published',
    );
    expect(FlakyConnector.published.map(e => e.payload.taskId)).to.eql([
      't-0',
      't-1',
      't-2',
      't-3',
      't-4',
    ]);
    expect(FlakyConnector.published[0]).to.containDeep({
      key: 'task-completed',
      source: 'task-service',
    });
    const [first] = await db.query<{attempts: number; last_error: string}>(
      `SELECT attempts, last_error FROM main.outbox_events ORDER BY seq LIMIT 1`,
    );
    expect(first).to.eql({attempts: 4, last_error: 'broker unavailable'});
    const unpublished = await db.query(
      'SELECT 1 FROM main.outbox_events WHERE published_on IS NULL',
    );
    expect(unpublished).to.have.length(0);
  });

  it('resolves a transient connector once, not a new client per round', async () => {
    expect(FlakyConnector.instances).to.equal(1);
  });

  it('an event written in a rolled-back transaction is never published', async () => {
    const before = FlakyConnector.published.length;
    const ds =
      await t.app.get<import('@loopback/repository').juggler.DataSource>(
        'datasources.taskdb',
      );
    const tx = await ds.beginTransaction({});
    await outbox.announce(
      EventType.TaskCreated,
      {createdTasks: []},
      {transaction: tx},
    );
    await tx.rollback();
    await outbox.announce(EventType.TaskCompleted, {taskId: 'after'});
    await eventually(
      () => FlakyConnector.published.length === before + 1,
      'the committed event',
    );
    expect(FlakyConnector.published.slice(before).map(e => e.key)).to.eql([
      'task-completed',
    ]);
  });
});
