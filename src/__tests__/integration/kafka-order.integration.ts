import {BindingScope, CoreTags} from '@loopback/core';
import {expect} from '@loopback/testlab';
import {Kafka} from 'kafkajs';
import {
  KafkaStreamService,
  TaskServiceKafkaModule,
} from '../../connectors/kafka';
import {TaskServiceBindings} from '../../keys';
import {EventType} from '../../models';
import {EventOutbox} from '../../services';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {
  ensureKafka,
  kafkaConnection,
  sleep,
  uniqueName,
  withAdmin,
} from './kafka.helpers';

interface Read {
  partition: number;
  offset: bigint;
  key: string | null;
  payload: Record<string, unknown>;
}

/** Everything on the topic, with the partition and offset of each message. */
async function readAll(topic: string, count: number): Promise<Read[]> {
  const consumer = new Kafka(kafkaConnection()).consumer({
    groupId: uniqueName('order-reader'),
    maxWaitTimeInMs: 100,
  });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({topics: [topic], fromBeginning: true});
    await consumer.run({
      eachMessage: async ({partition, message}) => {
        read.push({
          partition,
          offset: BigInt(message.offset),
          key: message.key?.toString() ?? null,
          payload: JSON.parse(message.value!.toString()).payload,
        });
      },
    });
    const deadline = Date.now() + 20000;
    while (read.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out reading ${topic}: ${read.length} of ${count}`,
        );
      }
      await sleep(50);
    }
    await sleep(500);
    return read;
  } finally {
    await consumer.disconnect();
  }
}

describe('Kafka outgoing order on a real broker: a task’s events share a partition, in order', function () {
  this.timeout(90000);
  let db: TestDatabase;
  const apps: TestApp[] = [];

  before(async () => {
    await ensureKafka();
    db = await TestDatabase.create(['core']);
  });
  after(async () => {
    for (const t of apps) await t.stop();
    await db?.drop();
  });

  /** An app whose outgoing connector is Kafka with this config (no key of its own). */
  async function givenKafkaApp(output?: {topic: string}) {
    const t = await givenTestApp({
      db,
      after: app => {
        app.bind(TaskServiceKafkaModule.CONFIG).to({
          connection: kafkaConnection(),
          ...(output ? {output} : {}),
        });
        app
          .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
          .toClass(KafkaStreamService)
          .inScope(BindingScope.SINGLETON)
          .tag(CoreTags.LIFE_CYCLE_OBSERVER);
      },
    });
    apps.push(t);
    return {t, outbox: await t.app.get<EventOutbox>('services.EventOutbox')};
  }

  it('keys each message by its task, so one task’s events land on one partition in the order they happened', async () => {
    const topic = uniqueName('order');
    await withAdmin(admin =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [{topic, numPartitions: 4}],
      }),
    );
    const {outbox} = await givenKafkaApp({topic});
    const tasks = Array.from({length: 8}, (_, i) => `task-${i}-${topic}`);
    // One task-created naming two tasks, then each task's own events.
    await outbox.announce(EventType.TaskCreated, {
      createdTasks: [{id: tasks[0]}, {id: tasks[1]}],
    });
    for (let n = 0; n < 5; n++) {
      for (const taskId of tasks) {
        await outbox.announce(EventType.UserTaskCompleted, {
          task: {id: taskId},
          userTask: {id: `u${n}`, taskId},
          n,
        });
      }
    }
    for (const taskId of tasks) {
      await outbox.announce(EventType.TaskCompleted, {taskId, n: 5});
    }
    const read = await readAll(topic, 1 + 8 * 6);
    expect(read).to.have.length(1 + 8 * 6);

    // The several-task event goes by its first task.
    const created = read.find(r => Array.isArray(r.payload.createdTasks))!;
    expect(created.key).to.equal(tasks[0]);

    const partitions = new Set<number>();
    for (const taskId of tasks) {
      const own = read.filter(
        r => !Array.isArray(r.payload.createdTasks) && r.key === taskId,
      );
      expect(own).to.have.length(6);
      // One partition per task, in the order the events happened.
      expect(new Set(own.map(r => r.partition)).size).to.equal(1);
      const byOffset = [...own].sort((a, b) => (a.offset < b.offset ? -1 : 1));
      expect(byOffset.map(r => r.payload.n)).to.eql([0, 1, 2, 3, 4, 5]);
      partitions.add(own[0].partition);
    }
    // The keys spread the tasks over the partitions.
    expect(partitions.size).to.be.above(1);
    // The first task's task-created precedes its events on its partition.
    const first = read.filter(r => r.key === tasks[0]);
    expect(first.every(r => r.partition === created.partition)).to.be.true();
    expect(
      first.every(r => r === created || r.offset > created.offset),
    ).to.be.true();
  });

  it('without an output topic, events are dropped with a warning and the outbox goes on', async () => {
    const {outbox} = await givenKafkaApp();
    for (let n = 0; n < 3; n++) {
      await outbox.announce(EventType.TaskCompleted, {taskId: `in-only-${n}`});
    }
    await eventually(async () => {
      const [row] = await db.query<{n: string}>(
        `SELECT count(*) AS n FROM main.outbox_events
          WHERE published_on IS NULL AND event->'payload'->>'taskId' LIKE 'in-only-%'`,
      );
      return Number(row.n) === 0;
    }, 'the events counted out');
    expect(await outbox.countParked()).to.equal(0);
  });
});
