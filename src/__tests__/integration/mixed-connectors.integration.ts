import {Client, expect} from '@loopback/testlab';
import {
  HttpStreamService,
  TaskHttpBindings,
  TaskHttpComponent,
  TaskHttpConfig,
} from '../../connectors/http';
import {
  KafkaConfig,
  KafkaStreamService,
  TaskServiceKafkaModule,
} from '../../connectors/kafka';
import {IEvent} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {EventOutbox} from '../../services';
import {testHttpConfig} from '../fixtures/http-config';
import {eventually, givenTestApp, TestApp, TestTaskApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';
import {WebhookReceiver, verifySignature} from '../fixtures/webhook-receiver';
import {
  createTopics,
  ensureKafka,
  kafkaConnection,
  produce,
  readTopic,
  uniqueName,
} from './kafka.helpers';

const HTTP_CONFIG: TaskHttpConfig = {
  delivery: {
    maxAttempts: 3,
    initialBackoffMs: 50,
    maxBackoffMs: 200,
    timeoutMs: 5000,
    pollIntervalMs: 25,
    concurrency: 4,
  },
};

/** The one Kafka service binding, as the example app makes it. */
const KAFKA_STREAM = 'connectors.KafkaStreamService';

interface EventRow {
  key: string;
  source: string;
  description: string;
  payload: object;
}

/**
 * The HTTP connector on both sides, then the Kafka service on `side` only,
 * exactly as `sandbox/task-example` wires a mixed set-up.
 */
function mountMixed(
  app: TestTaskApp,
  side: 'incoming' | 'outgoing',
  kafka: KafkaConfig,
) {
  app.component(TaskHttpComponent);
  app.bind(TaskHttpBindings.CONFIG).to(testHttpConfig(HTTP_CONFIG));
  app.bind(TaskServiceKafkaModule.CONFIG).to(kafka);
  const kafkaStream = app.bind(KAFKA_STREAM).toInjectable(KafkaStreamService);
  app
    .bind(
      side === 'incoming'
        ? TaskServiceBindings.INCOMING_CONNECTOR
        : TaskServiceBindings.OUTGOING_CONNECTOR,
    )
    .toAlias(kafkaStream.key);
}

const admin = bearer(tokenWith(ALL_PERMISSIONS));

/** A new client app whose `url` is subscribed to events with `key`. */
async function givenSubscriber(client: Client, url: string, key: string) {
  const res = await client
    .post('/client-apps')
    .set(admin)
    .send({clientName: uniqueName('client')})
    .expect(200);
  await client
    .post('/webhooks/subscribe')
    .set(admin)
    .set({
      'x-api-key': res.body.apiKey as string,
      'x-api-secret': res.body.apiSecret as string,
    })
    .send({url, key})
    .expect(200);
  return {secret: res.body.apiSecret as string};
}

function eventsWithKey(db: TestDatabase, key: string) {
  return db.query<EventRow>(
    'SELECT key, source, description, payload FROM main.events WHERE key = $1',
    [key],
  );
}

function completedEvent(taskId: string): IEvent {
  return {
    key: 'task-completed',
    payload: {taskId},
    timestamp: Date.now(),
    source: 'task-service',
  };
}

describe('Mixed connectors: Kafka in + HTTP out (PostgreSQL, real broker)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  let topic: string;
  let receiver: WebhookReceiver | undefined;

  before(ensureKafka);
  before(async () => {
    db = await TestDatabase.create();
    topic = uniqueName('mixed-in');
    await createTopics(topic, `${topic}.dlq`);
    t = await givenTestApp({
      db,
      after: app =>
        mountMixed(app, 'incoming', {
          connection: kafkaConnection(),
          consumer: {groupId: uniqueName('mixed-in'), maxWaitTimeInMs: 100},
          topics: [topic],
          fromBeginning: true,
          retry: {attempts: 2, initialBackoffMs: 10},
        }),
    });
  });
  after(async () => {
    await t?.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it('each side resolves to its own connector', async () => {
    const incoming = await t.app.get(TaskServiceBindings.INCOMING_CONNECTOR);
    const outgoing = await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
    expect(incoming).to.be.instanceOf(KafkaStreamService);
    expect(incoming).to.equal(await t.app.get(KAFKA_STREAM));
    expect(outgoing).to.be.instanceOf(HttpStreamService);
    expect(outgoing).to.equal(await t.app.get(TaskHttpBindings.STREAM_SERVICE));
  });

  it('a JSON message on the topic becomes an event stored with source kafka', async () => {
    await produce(topic, [
      {value: JSON.stringify({taskName: 'from kafka', n: 1})},
    ]);
    const [row] = await eventually(async () => {
      const rows = await eventsWithKey(db, topic);
      return rows.length > 0 && rows;
    }, 'the event from Kafka');
    expect(row).to.eql({
      key: topic,
      source: 'kafka',
      description: `Task for ${topic}`,
      payload: {taskName: 'from kafka', n: 1},
    });
    expect(await eventsWithKey(db, topic)).to.have.length(1);
  });

  it('an outbox event reaches a webhook subscriber, signed with its secret', async () => {
    receiver = await new WebhookReceiver().start();
    const sub = await givenSubscriber(t.client, receiver.url, 'task-completed');
    const outbox = await t.app.get<EventOutbox>('services.EventOutbox');
    const event = completedEvent('x');
    await outbox.add(event);
    const [hook] = await eventually(
      () => receiver!.received.length > 0 && receiver!.received,
      'the webhook from the outbox',
    );
    expect(JSON.parse(hook.body)).to.eql(event);
    expect(hook.headers['x-task-timestamp']).to.be.ok();
    expect(verifySignature(hook.body, hook.headers, sub.secret)).to.be.true();
    expect(
      verifySignature(hook.body, hook.headers, 'another-secret'),
    ).to.be.false();
    const deliveries = await db.query<{status: string}>(
      'SELECT status FROM main.webhook_deliveries WHERE event_key = $1',
      ['task-completed'],
    );
    expect(deliveries).to.have.length(1);
  });

  it('POST /events/trigger answers 503: the HTTP incoming side is not subscribed', async () => {
    const key = uniqueName('over-http');
    const res = await t.client
      .post('/events/trigger')
      .set(admin)
      .send({key, payload: {n: 1}})
      .expect(503);
    // LoopBack hides a 5xx's message; the controller's reason is logged only.
    expect(res.body.error).to.containDeep({statusCode: 503});
    expect(await eventsWithKey(db, key)).to.have.length(0);
  });
});

describe('Mixed connectors: HTTP in + Kafka out (PostgreSQL, real broker)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  let topic: string;
  let receiver: WebhookReceiver | undefined;

  before(ensureKafka);
  before(async () => {
    db = await TestDatabase.create();
    topic = uniqueName('mixed-out');
    await createTopics(topic);
    t = await givenTestApp({
      db,
      after: app =>
        mountMixed(app, 'outgoing', {
          connection: kafkaConnection(),
          output: {topic, key: e => e.key},
        }),
    });
  });
  after(async () => {
    await t?.stop();
    await receiver?.stop();
    await db?.drop();
  });

  it('each side resolves to its own connector', async () => {
    const incoming = await t.app.get(TaskServiceBindings.INCOMING_CONNECTOR);
    const outgoing = await t.app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
    expect(incoming).to.be.instanceOf(HttpStreamService);
    expect(incoming).to.equal(await t.app.get(TaskHttpBindings.STREAM_SERVICE));
    expect(outgoing).to.be.instanceOf(KafkaStreamService);
    expect(outgoing).to.equal(await t.app.get(KAFKA_STREAM));
  });

  it('POST /events/trigger answers 204 and stores the event', async () => {
    const key = uniqueName('over-http');
    await t.client
      .post('/events/trigger')
      .set(admin)
      .send({key, payload: {taskName: 'from http', n: 2}})
      .expect(204);
    // The route answers once the event was handled: no wait needed.
    expect(await eventsWithKey(db, key)).to.eql([
      {
        key,
        source: 'http',
        description: `Task for ${key}`,
        payload: {taskName: 'from http', n: 2},
      },
    ]);
  });

  it('an outbox event lands once on the output topic, and not as a webhook', async () => {
    // A webhook subscriber to the same key: the HTTP side must not publish.
    receiver = await new WebhookReceiver().start();
    await givenSubscriber(t.client, receiver.url, 'task-completed');
    const outbox = await t.app.get<EventOutbox>('services.EventOutbox');
    const event = completedEvent('y');
    await outbox.add(event);
    const messages = await readTopic(topic, 1);
    expect(messages).to.have.length(1);
    expect(messages[0].key?.toString()).to.equal('task-completed');
    const published = JSON.parse(messages[0].value!.toString());
    expect(published).to.eql(event);
    expect(published).to.containDeep({
      key: 'task-completed',
      payload: {taskId: 'y'},
      source: 'task-service',
    });
    const rows = await eventually(async () => {
      const found = await db.query<{published: boolean; attempts: number}>(
        'SELECT published_on IS NOT NULL AS published, attempts FROM main.outbox_events',
      );
      return found.every(r => r.published) && found;
    }, 'the outbox to record the publish');
    expect(rows).to.eql([{published: true, attempts: 1}]);
    expect(receiver.received).to.have.length(0);
    expect(
      await db.query(
        'SELECT id FROM main.webhook_deliveries WHERE event_key = $1',
        ['task-completed'],
      ),
    ).to.have.length(0);
  });
});
