import {expect} from '@loopback/testlab';
import {
  KafkaStreamService,
  TaskServiceKafkaModule,
} from '../../connectors/kafka';
import {TaskServiceBindings} from '../../keys';
import {EventOutbox} from '../../services';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {
  createTopics,
  ensureKafka,
  kafkaConnection,
  produce,
  readTopic,
  uniqueName,
} from './kafka.helpers';

interface EventRow {
  key: string;
  source: string;
  description: string;
  payload: object;
}

describe('Task service with the Kafka connector (PostgreSQL, real broker)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp | undefined;

  before(ensureKafka);
  before(async () => {
    db = await TestDatabase.create(['core']);
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });
  after(async () => {
    await db?.drop();
  });

  it('Kafka in: a message becomes an event stored with source kafka; poison goes to the DLQ', async () => {
    const topic = uniqueName('events');
    await createTopics(topic, `${topic}.dlq`);
    t = await givenTestApp({
      db,
      before: app => {
        app.bind(TaskServiceKafkaModule.CONFIG).to({
          connection: kafkaConnection(),
          consumer: {groupId: uniqueName('task-service'), maxWaitTimeInMs: 100},
          topics: [topic],
          fromBeginning: true,
          retry: {attempts: 2, initialBackoffMs: 10},
        });
        app
          .bind(TaskServiceBindings.INCOMING_CONNECTOR)
          .toInjectable(KafkaStreamService);
      },
    });
    await produce(topic, [
      {value: JSON.stringify({description: 'from kafka', n: 1})},
      {value: 'poison'},
      {value: JSON.stringify({n: 2})},
    ]);

    const rows = await eventually(async () => {
      const found = await db.query<EventRow>(
        'SELECT key, source, description, payload FROM main.events WHERE key = $1',
        [topic],
      );
      return found.length === 2 && found;
    }, 'two stored events');
    const byN = (n: number) =>
      rows.find(r => (r.payload as {n?: number}).n === n);
    expect(byN(1)).to.eql({
      key: topic,
      source: 'kafka',
      description: 'from kafka',
      payload: {description: 'from kafka', n: 1},
    });
    expect(byN(2)).to.eql({
      key: topic,
      source: 'kafka',
      description: `Task for ${topic}`,
      payload: {n: 2},
    });
    const [dead] = await readTopic(`${topic}.dlq`, 1);
    expect(dead.value!.toString()).to.equal('poison');
  });

  it('Kafka out: the outbox relay publishes through the long-lived producer', async () => {
    const topic = uniqueName('out');
    await createTopics(topic);
    t = await givenTestApp({
      db,
      after: app => {
        app.bind(TaskServiceKafkaModule.CONFIG).to({
          connection: kafkaConnection(),
          output: {topic, key: e => e.key},
        });
        app
          .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
          .toInjectable(KafkaStreamService);
      },
    });
    const outbox = await t.app.get<EventOutbox>('services.EventOutbox');
    for (const taskId of ['a', 'b', 'c']) {
      await outbox.add({
        key: 'task-completed',
        payload: {taskId},
        timestamp: Date.now(),
        source: 'task-service',
      });
    }
    const messages = await readTopic(topic, 3);
    expect(messages.map(m => m.key?.toString())).to.eql([
      'task-completed',
      'task-completed',
      'task-completed',
    ]);
    expect(
      messages.map(m => JSON.parse(m.value!.toString()).payload.taskId),
    ).to.eql(['a', 'b', 'c']);
  });
});
