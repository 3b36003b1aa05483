import {AnyObject} from '@loopback/repository';
import {expect} from '@loopback/testlab';
import {
  KafkaStreamService,
  TaskServiceKafkaModule,
} from '../../connectors/kafka';
import {
  IWorkflowManager,
  StartedInstance,
  StartOptions,
} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {EventWorkflowRepository} from '../../repositories';
import {EventReceiptStore, TaskSqlBindings} from '../../sql';
import {givenTestApp, TestApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';
import {
  committedOffset,
  createTopics,
  ensureKafka,
  kafkaConnection,
  produce,
  readTopic,
  uniqueName,
  until,
} from './kafka.helpers';

interface Start extends StartedInstance {
  n: number;
  lane: string;
}

/**
 * An engine that records each start. It can fail the start of a message
 * once: before making the instance (an engine hiccup) or after it (the
 * answer lost on the way back).
 */
class RecordingEngine implements IWorkflowManager {
  readonly starts: Start[] = [];
  readonly failBefore = new Set<number>();
  readonly failAfter = new Set<number>();

  async start(
    definitionId: string,
    input: AnyObject,
    options: StartOptions = {},
  ): Promise<StartedInstance> {
    const {n, lane} = input as {n: number; lane: string};
    if (this.failBefore.delete(n)) throw new Error('engine hiccup');
    const instance: StartedInstance = {
      id: `instance-${this.starts.length + 1}`,
      definitionId,
      businessKey: options.businessKey,
    };
    this.starts.push({...instance, n, lane});
    if (this.failAfter.delete(n)) throw new Error('the answer was lost');
    return instance;
  }

  async findInstanceByBusinessKey(businessKey: string) {
    const found = this.starts.find(s => s.businessKey === businessKey);
    return found && {id: found.id, definitionId: found.definitionId};
  }

  deploy(): never {
    throw new Error('not used');
  }
  deleteDefinitions(): never {
    throw new Error('not used');
  }
  deleteInstance(): never {
    throw new Error('not used');
  }
  pendingUserTasks(): never {
    throw new Error('not used');
  }
  completeUserTask(): never {
    throw new Error('not used');
  }
}

for (const cell of dataCells()) {
  describe(`Kafka in: a fetched batch stored in one go, workflows started in order per key (${cell.name}, real broker)`, function () {
    this.timeout(90000);
    let db: CellDatabase;
    let t: TestApp | undefined;

    before(ensureKafka);
    before(async () => {
      db = await givenCellDatabase(cell, ['core']);
    });
    afterEach(async () => {
      await t?.stop();
      t = undefined;
    });
    after(async () => {
      await db?.drop();
    });

    async function consumeWith(
      topic: string,
      groupId: string,
      engine: RecordingEngine,
    ): Promise<number[]> {
      t = await givenTestApp({
        db,
        before: app => {
          app.bind(TaskServiceKafkaModule.CONFIG).to({
            connection: kafkaConnection(),
            consumer: {groupId, maxWaitTimeInMs: 100},
            topics: [topic],
            fromBeginning: true,
            retry: {attempts: 3, initialBackoffMs: 10},
          });
          app
            .bind(TaskServiceBindings.INCOMING_CONNECTOR)
            .toInjectable(KafkaStreamService);
        },
        after: app => app.bind(TaskServiceBindings.WORKFLOW_MANAGER).to(engine),
      });
      // The sizes of the batches stored in one go.
      const sizes: number[] = [];
      const store = await t.app.get<EventReceiptStore>(
        TaskSqlBindings.EVENT_RECEIPT_STORE,
      );
      const storeAll = store.storeAndMapAll!.bind(store);
      store.storeAndMapAll = async events => {
        sizes.push(events.length);
        return storeAll(events);
      };
      return sizes;
    }

    async function storedNs(topic: string): Promise<number[]> {
      const rows = await db.rows<{payload: unknown}>('events', {
        columns: ['payload'],
        where: {key: topic},
      });
      return rows
        .map(r => {
          const payload =
            typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload;
          return (payload as {n: number}).n;
        })
        .sort((a, b) => a - b);
    }

    it('stores each message once, starts its workflow once in the order of its key, and commits all', async () => {
      const topic = uniqueName('in-batch');
      await createTopics(topic, `${topic}.dlq`);
      const engine = new RecordingEngine();
      engine.failBefore.add(4);
      engine.failAfter.add(7);
      const groupId = uniqueName('in-batch');
      const sizes = await consumeWith(topic, groupId, engine);
      const mappings = await t!.app.getRepository(EventWorkflowRepository);
      await mappings.create({eventKey: topic, workflowKey: 'recorded'});
      const lanes = ['a', 'b', 'c'];
      const messages = Array.from({length: 20}, (_, n) => ({
        key: lanes[n % 3],
        value: JSON.stringify({n, lane: lanes[n % 3]}),
      }));
      // A poison message in lane a: dead-lettered, the lane goes on.
      messages.splice(10, 0, {key: 'a', value: 'poison'});
      await produce(topic, messages);
      await until(
        async () => (await committedOffset(groupId, topic)) === '21',
        'every message committed',
      );

      const all = Array.from({length: 20}, (_, n) => n);
      expect(await storedNs(topic)).to.eql(all);
      // One start per event, the one whose answer was lost included.
      expect(engine.starts.map(s => s.n).sort((a, b) => a - b)).to.eql(all);
      for (const lane of lanes) {
        const ns = engine.starts.filter(s => s.lane === lane).map(s => s.n);
        expect(ns).to.eql(all.filter(n => lanes[n % 3] === lane));
      }
      const runs = await db.rows<{instance_id: string}>('event_workflow_runs');
      expect(runs.map(r => r.instance_id).sort()).to.eql(
        engine.starts.map(s => s.id).sort(),
      );
      expect(Math.max(...sizes)).to.be.above(1);
      const [dead] = await readTopic(`${topic}.dlq`, 1);
      expect(dead.value!.toString()).to.equal('poison');

      // Delivered again (another group from the start): nothing is stored
      // or started twice.
      await t!.stop();
      t = undefined;
      const again = uniqueName('in-batch-again');
      await consumeWith(topic, again, engine);
      await until(
        async () => (await committedOffset(again, topic)) === '21',
        'every message committed again',
      );
      expect(await storedNs(topic)).to.eql(all);
      expect(engine.starts).to.have.length(20);
    });
  });
}
