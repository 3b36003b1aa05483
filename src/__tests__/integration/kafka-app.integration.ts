import {Application, BindingScope, CoreTags} from '@loopback/core';
import {expect} from '@loopback/testlab';
import {
  KafkaEventAdapter,
  KafkaStreamService,
  TaskServiceKafkaModule,
} from '../../connectors/kafka';
import {EventHandler, IEvent, IIncomingConnector} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {RecordingConnector} from '../fixtures/recording-connector';
import {
  createTopics,
  ensureKafka,
  kafkaConnection,
  produce,
  readTopic,
  uniqueName,
  until,
} from './kafka.helpers';

/** Another incoming connector (as the HTTP one) for the mixed set-ups. */
class PushConnector implements IIncomingConnector {
  handler?: EventHandler;
  async subscribe(handler: EventHandler) {
    this.handler = handler;
  }
  async unsubscribe() {
    this.handler = undefined;
  }
}

describe('Kafka connector bound in a LoopBack application', function () {
  this.timeout(60000);
  let app: Application;
  let topic: string;

  before(ensureKafka);
  beforeEach(async () => {
    topic = uniqueName('app');
    await createTopics(topic);
    app = new Application();
    app.bind(TaskServiceKafkaModule.CONFIG).to({
      connection: kafkaConnection(),
      consumer: {groupId: uniqueName('group'), maxWaitTimeInMs: 100},
      topics: [topic],
      fromBeginning: true,
      output: {topic, key: 'out'},
    });
    app.bind(TaskServiceKafkaModule.ADAPTER).toClass(KafkaEventAdapter);
  });
  afterEach(async () => {
    await app.stop();
  });

  it('Kafka in with another outgoing connector: each side resolves to its own', async () => {
    const outgoing = new RecordingConnector();
    app
      .bind(TaskServiceBindings.INCOMING_CONNECTOR)
      .toClass(KafkaStreamService)
      .inScope(BindingScope.SINGLETON)
      .tag(CoreTags.LIFE_CYCLE_OBSERVER);
    app.bind(TaskServiceBindings.OUTGOING_CONNECTOR).to(outgoing);
    await app.start();

    const incoming = await app.get(TaskServiceBindings.INCOMING_CONNECTOR);
    expect(incoming).to.be.instanceOf(KafkaStreamService);
    expect(await app.get(TaskServiceBindings.OUTGOING_CONNECTOR)).to.equal(
      outgoing,
    );
    await incoming.subscribe(async event => {
      const out = await app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
      await out.publish({...event, key: `seen-${event.key}`});
    });
    await produce(topic, [{value: '{"n":1}'}]);
    await until(() => outgoing.published.length === 1, 'the relayed event');
    expect(outgoing.published[0]).to.containDeep({
      key: `seen-${topic}`,
      source: 'kafka',
      payload: {n: 1},
    });
  });

  it('another incoming connector with Kafka out: events reach the topic', async () => {
    const push = new PushConnector();
    app.bind(TaskServiceBindings.INCOMING_CONNECTOR).to(push);
    app
      .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
      .toInjectable(KafkaStreamService);
    await app.start();

    const outgoing = await app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
    expect(outgoing).to.be.instanceOf(KafkaStreamService);
    expect(await app.get(TaskServiceBindings.INCOMING_CONNECTOR)).to.equal(
      push,
    );
    await push.subscribe(event => outgoing.publish(event));
    const event: IEvent = {
      key: 'task-created',
      payload: {via: 'push'},
      timestamp: 1,
      source: 'task-service',
    };
    await push.handler!(event);
    const [message] = await readTopic(topic, 1);
    expect(message.key?.toString()).to.equal('out');
    expect(JSON.parse(message.value!.toString())).to.eql(event);
  });

  it('toInjectable gives one instance that the application stops (producer disconnected)', async () => {
    app
      .bind(TaskServiceBindings.OUTGOING_CONNECTOR)
      .toInjectable(KafkaStreamService);
    const binding = app.getBinding(TaskServiceBindings.OUTGOING_CONNECTOR);
    expect(binding.scope).to.equal(BindingScope.SINGLETON);
    expect(binding.tagNames).to.containEql(CoreTags.LIFE_CYCLE_OBSERVER);
    await app.start();
    const a = await app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
    const b = await app.get(TaskServiceBindings.OUTGOING_CONNECTOR);
    expect(a).to.equal(b);
    await a.publish({key: 'k', payload: {}, timestamp: 1, source: 's'});
    await app.stop();
    await expect(
      a.publish({key: 'k', payload: {}, timestamp: 1, source: 's'}),
    ).to.be.rejectedWith(/stopped/);
    // A restarted application publishes again, with a new producer.
    await app.start();
    await a.publish({key: 'k', payload: {}, timestamp: 2, source: 's'});
    expect(await readTopic(topic, 2)).to.have.length(2);
  });
});
