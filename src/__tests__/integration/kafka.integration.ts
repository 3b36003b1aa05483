import {expect} from '@loopback/testlab';
import {CompressionTypes} from 'kafkajs';
import {
  DeadLetterHeaders,
  KafkaConfig,
  KafkaStreamService,
} from '../../connectors/kafka';
import {IEvent} from '../../interfaces';
import {
  committedOffset,
  CountingKafka,
  createTopics,
  ensureKafka,
  headerText,
  kafkaConnection,
  produce,
  readTopic,
  sleep,
  uniqueName,
  until,
} from './kafka.helpers';

describe('KafkaStreamService on a real broker', function () {
  this.timeout(60000);
  const services: KafkaStreamService[] = [];

  before(ensureKafka);
  afterEach(async () => {
    await Promise.all(services.splice(0).map(s => s.stop()));
  });

  function givenService(
    config: Partial<KafkaConfig>,
    kafka = new CountingKafka(kafkaConnection()),
  ) {
    const service = new KafkaStreamService(
      {connection: kafkaConnection(), ...config},
      kafka,
    );
    services.push(service);
    return {service, kafka};
  }

  function incomingConfig(topic: string, groupId = uniqueName('group')) {
    return {
      topics: [topic],
      fromBeginning: true,
      // Short long-polls, so that unsubscribe does not wait 5 s for a fetch.
      consumer: {groupId, maxWaitTimeInMs: 100},
      retry: {attempts: 3, initialBackoffMs: 20},
    };
  }

  function anEvent(payload: object = {taskId: 't-1'}): IEvent {
    return {
      key: 'task-created',
      payload,
      timestamp: Date.now(),
      source: 'task-service',
    };
  }

  describe('incoming', () => {
    it('subscribes to a topic that does not exist yet (a fresh broker)', async () => {
      const topic = uniqueName('new');
      const {service} = givenService(incomingConfig(topic));
      const handled: IEvent[] = [];
      await service.subscribe(async event => {
        handled.push(event);
      });
      await produce(topic, [{value: JSON.stringify({first: true})}]);
      await until(() => handled.length === 1, 'the event on the new topic');
      expect(handled[0].payload).to.eql({first: true});
    });

    it('hands the adapted event to the handler, then commits its offset', async () => {
      const topic = uniqueName('in');
      await createTopics(topic);
      const groupId = uniqueName('group');
      const {service} = givenService(incomingConfig(topic, groupId));
      const handled: IEvent[] = [];
      await service.subscribe(async event => {
        handled.push(event);
      });
      const before = Date.now();
      await produce(topic, [{value: JSON.stringify({a: 1, who: 'x'})}]);

      await until(() => handled.length === 1, 'the event');
      expect(handled[0]).to.containDeep({
        key: topic,
        source: 'kafka',
        payload: {a: 1, who: 'x'},
      });
      expect(handled[0].timestamp).to.be.within(before - 60000, Date.now());
      await until(
        async () => (await committedOffset(groupId, topic)) === '1',
        'the commit',
      );
    });

    it('retries a failing handler, dead-letters the original message with why, and goes on', async () => {
      const topic = uniqueName('in');
      await createTopics(topic, `${topic}.dlq`);
      const groupId = uniqueName('group');
      const {service} = givenService(incomingConfig(topic, groupId));
      const tries: Record<string, number> = {};
      const handled: string[] = [];
      await service.subscribe(async event => {
        const id = String(event.payload.id);
        tries[id] = (tries[id] ?? 0) + 1;
        if (event.payload.fail) throw new Error(`cannot handle ${id}`);
        handled.push(id);
      });
      await produce(topic, [
        {
          key: 'k-1',
          value: JSON.stringify({id: 'bad', fail: true}),
          headers: {'trace-id': 'abc'},
        },
        {value: JSON.stringify({id: 'good'})},
      ]);

      const [dead] = await readTopic(`${topic}.dlq`, 1);
      expect(dead.key?.toString()).to.equal('k-1');
      expect(JSON.parse(dead.value!.toString())).to.eql({
        id: 'bad',
        fail: true,
      });
      expect(headerText(dead, 'trace-id')).to.equal('abc');
      expect(headerText(dead, DeadLetterHeaders.ERROR)).to.equal(
        'cannot handle bad',
      );
      expect(headerText(dead, DeadLetterHeaders.SOURCE_TOPIC)).to.equal(topic);
      expect(headerText(dead, DeadLetterHeaders.PARTITION)).to.equal('0');
      expect(headerText(dead, DeadLetterHeaders.OFFSET)).to.equal('0');
      expect(headerText(dead, DeadLetterHeaders.ATTEMPTS)).to.equal('3');
      expect(tries.bad).to.equal(3);

      await until(() => handled.includes('good'), 'the later message');
      await until(
        async () => (await committedOffset(groupId, topic)) === '2',
        'both offsets committed',
      );
    });

    it('dead-letters a poison (non-JSON) message to a configured topic and handles the next', async () => {
      const topic = uniqueName('in');
      const dlq = uniqueName('poison');
      await createTopics(topic, dlq);
      const {service} = givenService({
        ...incomingConfig(topic),
        deadLetterTopic: t => (t === topic ? dlq : 'wrong'),
      });
      const handled: IEvent[] = [];
      await service.subscribe(async event => {
        handled.push(event);
      });
      await produce(topic, [{value: 'not json {'}, {value: '{"ok":true}'}]);

      const [dead] = await readTopic(dlq, 1);
      expect(dead.value!.toString()).to.equal('not json {');
      expect(headerText(dead, DeadLetterHeaders.ERROR)).to.match(/is not JSON/);
      await until(() => handled.length === 1, 'the next message');
      expect(handled[0].payload).to.eql({ok: true});
    });

    it('loses nothing when a consumer stops mid-stream and another of its group takes over', async () => {
      const topic = uniqueName('in');
      await createTopics(topic);
      const groupId = uniqueName('group');
      const total = 40;
      const values = Array.from({length: total}, (_, i) => `m${i}`);
      await produce(
        topic,
        values.map(v => ({value: JSON.stringify({v})})),
      );

      const handled: string[] = [];
      // Two at a time, so the first is stopped with messages still to go.
      const first = givenService({
        ...incomingConfig(topic, groupId),
        concurrency: 2,
      }).service;
      await first.subscribe(async event => {
        await sleep(10);
        handled.push(String(event.payload.v));
      });
      await until(() => handled.length >= 10, 'ten messages on the first');
      await first.unsubscribe();
      const byFirst = handled.length;
      expect(byFirst).to.be.below(total);

      const second = givenService(incomingConfig(topic, groupId)).service;
      await second.subscribe(async event => {
        handled.push(String(event.payload.v));
      });
      await until(
        () => values.every(v => handled.includes(v)),
        'every message handled',
      );
      expect(new Set(handled)).to.eql(new Set(values));
    });

    it('unsubscribe waits for the message being handled, which is committed', async () => {
      const topic = uniqueName('in');
      await createTopics(topic);
      const groupId = uniqueName('group');
      const {service} = givenService(incomingConfig(topic, groupId));
      const steps: string[] = [];
      await service.subscribe(async () => {
        steps.push('started');
        await sleep(500);
        steps.push('finished');
      });
      await produce(topic, [{value: '{}'}]);
      await until(() => steps.includes('started'), 'the handler to start');

      await Promise.all([service.unsubscribe(), service.unsubscribe()]);
      steps.push('unsubscribed');
      expect(steps).to.eql(['started', 'finished', 'unsubscribed']);
      expect(await committedOffset(groupId, topic)).to.equal('1');
      await service.unsubscribe();
    });
  });

  describe('outgoing', () => {
    it('publishes one gzip-compressed message with a fixed key and the event as JSON', async () => {
      const topic = uniqueName('out');
      await createTopics(topic);
      const {service, kafka} = givenService({
        output: {topic, key: 'task-events'},
      });
      const event = anEvent();
      await service.publish(event);

      const messages = await readTopic(topic, 1, {settleMs: 1000});
      expect(messages).to.have.length(1);
      expect(messages[0].key?.toString()).to.equal('task-events');
      expect(JSON.parse(messages[0].value!.toString())).to.eql(event);
      expect(kafka.sent.map(r => r.compression)).to.eql([
        CompressionTypes.GZIP,
      ]);
    });

    it('computes the key from the event; compression can be turned off', async () => {
      const topic = uniqueName('out');
      await createTopics(topic);
      const {service, kafka} = givenService({
        output: {topic, key: e => `${e.key}:${e.payload.taskId}`},
        compression: 'none',
      });
      await service.publish(anEvent({taskId: 'a'}));
      await service.publish(anEvent({taskId: 'b'}));

      const messages = await readTopic(topic, 2);
      expect(messages.map(m => m.key?.toString())).to.eql([
        'task-created:a',
        'task-created:b',
      ]);
      expect(kafka.sent.map(r => r.compression)).to.eql([
        CompressionTypes.None,
        CompressionTypes.None,
      ]);
    });

    it('connects one producer once for many publishes, concurrent ones included, and disconnects it at stop', async () => {
      const topic = uniqueName('out');
      await createTopics(topic);
      const {service, kafka} = givenService({output: {topic}});
      const count = 60;
      await Promise.all(
        Array.from({length: count / 2}, (_, i) =>
          service.publish(anEvent({n: i})),
        ),
      );
      for (let i = count / 2; i < count; i++) {
        await service.publish(anEvent({n: i}));
      }
      expect({producers: kafka.producers, connects: kafka.connects}).to.eql({
        producers: 1,
        connects: 1,
      });
      const messages = await readTopic(topic, count);
      expect(messages).to.have.length(count);

      await service.stop();
      await service.stop();
      expect(kafka.disconnects).to.equal(1);
      await expect(service.publish(anEvent())).to.be.rejectedWith(/stopped/);
    });
  });
});
