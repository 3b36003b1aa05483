import {expect} from '@loopback/testlab';
import type {
  Consumer,
  ConsumerRunConfig,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
  ProducerBatch,
  ProducerRecord,
} from 'kafkajs';
import {join} from 'path';
import {
  bySize,
  KafkaEventAdapter,
  KafkaStreamService,
  MAX_BATCH_BYTES,
} from '../../connectors/kafka';
import {IEvent} from '../../interfaces';
import {capturingLogger} from '../fixtures/log-capture';

function aMessage(value: string | null, offset = '7'): KafkaMessage {
  return {
    key: null,
    value: value === null ? null : Buffer.from(value),
    timestamp: '1700000000000',
    attributes: 0,
    offset,
    headers: {},
  };
}

const event: IEvent = {
  key: 'task-created',
  payload: {taskId: 'x'},
  timestamp: 5,
  source: 'task-service',
};

describe('KafkaEventAdapter (unit)', () => {
  const adapter = new KafkaEventAdapter(undefined);

  it('turns a message into {key: topic, timestamp, source kafka, payload}', async () => {
    expect(
      await adapter.adaptTo({
        topic: 'orders',
        partition: 0,
        message: aMessage('{"a":1}'),
      }),
    ).to.eql({
      id: 'kafka:orders:0:7',
      key: 'orders',
      timestamp: 1700000000000,
      source: 'kafka',
      payload: {a: 1},
    });
  });

  it('rejects a value that is not JSON, not an object, or missing, saying where', async () => {
    const adapt = (value: string | null) =>
      adapter.adaptTo({
        topic: 'orders',
        partition: 2,
        message: aMessage(value),
      });
    await expect(adapt('nope')).to.be.rejectedWith(
      /^Kafka message orders\[2\]@7 is not JSON/,
    );
    await expect(adapt('[1]')).to.be.rejectedWith(/not an object/);
    await expect(adapt('null')).to.be.rejectedWith(/not an object/);
    await expect(adapt(null)).to.be.rejectedWith(/has no value/);
  });

  it('keys a message by the task its event concerns when no key is configured', async () => {
    expect(await adapter.adaptFrom(event)).to.eql({
      key: 'x',
      value: JSON.stringify(event),
    });
    const created: IEvent = {
      ...event,
      payload: {createdTasks: [{id: 't-1'}, {id: 't-2'}]},
    };
    expect((await adapter.adaptFrom(created)).key).to.equal('t-1');
    const completed: IEvent = {
      ...event,
      key: 'user-task-completed',
      payload: {task: {id: 't-3'}, userTask: {id: 'u', taskId: 't-3'}},
    };
    expect((await adapter.adaptFrom(completed)).key).to.equal('t-3');
    const aboutNoTask: IEvent = {...event, payload: {other: 1}};
    expect((await adapter.adaptFrom(aboutNoTask)).key).to.be.null();
  });

  it('turns an event into a message with the configured key', async () => {
    const connection = {brokers: ['b:9092']};
    const fixed = new KafkaEventAdapter({
      connection,
      output: {topic: 'o', key: 'k'},
    });
    expect((await fixed.adaptFrom(event)).key).to.equal('k');
    const computed = new KafkaEventAdapter({
      connection,
      output: {topic: 'o', key: e => `${e.key}/${e.payload.taskId}`},
    });
    expect((await computed.adaptFrom(event)).key).to.equal('task-created/x');
  });
});

/** Just enough of kafkajs to drive the service's message loop by hand. */
class FakeKafka {
  producers = 0;
  connects = 0;
  sent: ProducerRecord[] = [];
  /** Each sendBatch's messages, and how many were in flight at its start. */
  batches: {messages: Message[]; inFlight: number}[] = [];
  inFlight = 0;
  failBatchAt = -1;
  commits: unknown[] = [];
  failSends = false;
  failConnects = 0;
  calls: string[] = [];
  eachBatch?: ConsumerRunConfig['eachBatch'];
  createdTopics: string[] = [];

  admin() {
    return {
      connect: async () => undefined,
      createTopics: async ({topics}: {topics: {topic: string}[]}) => {
        this.createdTopics.push(...topics.map(t => t.topic));
        return true;
      },
      disconnect: async () => undefined,
    };
  }

  producer(): Producer {
    this.producers++;
    return {
      connect: async () => {
        this.connects++;
        await new Promise(r => setTimeout(r, 20));
        if (this.failConnects > 0) {
          this.failConnects--;
          throw new Error('broker down');
        }
      },
      disconnect: async () => {},
      send: async (record: ProducerRecord) => {
        if (this.failSends) throw new Error('dlq unavailable');
        this.sent.push(record);
        return [];
      },
      sendBatch: async (batch: ProducerBatch) => {
        const index = this.batches.length;
        this.batches.push({
          messages: batch.topicMessages!.flatMap(t => t.messages),
          inFlight: this.inFlight,
        });
        this.inFlight++;
        try {
          await new Promise(r => setTimeout(r, 5));
          if (index === this.failBatchAt) throw new Error('record too large');
          return [];
        } finally {
          this.inFlight--;
        }
      },
    } as unknown as Producer;
  }

  consumer(): Consumer {
    return {
      events: {CRASH: 'consumer.crash'},
      on: () => () => {},
      connect: async () => {},
      subscribe: async () => {},
      run: async (config: ConsumerRunConfig) => {
        this.eachBatch = config.eachBatch;
      },
      commitOffsets: async (offsets: unknown) => {
        this.commits.push(offsets);
      },
      pause: () => {
        this.calls.push('pause');
      },
      disconnect: async () => {
        this.calls.push('disconnect');
      },
    } as unknown as Consumer;
  }

  /** A fetched batch of the messages, from partition 0 of `in`. */
  deliver(...messages: KafkaMessage[]): Promise<void> {
    const payload = {
      batch: {topic: 'in', partition: 0, messages},
      resolveOffset: () => {},
      heartbeat: async () => {},
      pause: () => () => {},
    } as unknown as EachBatchPayload;
    return this.eachBatch!(payload);
  }
}

describe('KafkaStreamService (unit, fake kafkajs)', () => {
  function givenService(fake: FakeKafka) {
    return new KafkaStreamService(
      {
        connection: {brokers: ['b:9092']},
        consumer: {groupId: 'g'},
        topics: ['in'],
        output: {topic: 'out'},
        retry: {attempts: 2, initialBackoffMs: 1},
      },
      fake as unknown as Kafka,
    );
  }

  it('does not commit, and rejects, when the dead-letter topic cannot be written', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    await service.subscribe(async () => {
      throw new Error('handler failed');
    });
    fake.failSends = true;
    await expect(fake.deliver(aMessage('{}'))).to.be.rejectedWith(
      /failed \(handler failed\) and could not be written to in\.dlq: dlq unavailable/,
    );
    expect(fake.commits).to.be.empty();

    fake.failSends = false;
    await fake.deliver(aMessage('{}'));
    expect(fake.sent[0].topic).to.equal('in.dlq');
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '8'}]]);
  });

  it('unsubscribe pauses, lets the message in hand finish and commit, then disconnects', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    let release = () => {};
    await service.subscribe(async () => {
      fake.calls.push('handling');
      await new Promise<void>(r => (release = r));
      fake.calls.push('handled');
    });
    const delivered = fake.deliver(aMessage('{}'));
    await new Promise(r => setImmediate(r));
    const unsubscribed = Promise.all([
      service.unsubscribe(),
      service.unsubscribe(),
    ]);
    // Fetched before the pause took effect: left for the group's next consumer.
    await fake.deliver(aMessage('{}', '8'));
    setTimeout(release, 20);
    await Promise.all([delivered, unsubscribed]);
    await service.unsubscribe();
    expect(fake.calls).to.eql(['handling', 'pause', 'handled', 'disconnect']);
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '8'}]]);
  });

  it('handles a batch by key: one key in order, keys side by side, one commit at the end', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    const log: string[] = [];
    await service.subscribe(async received => {
      const {n} = received.payload as {n: string};
      log.push(`start ${n}`);
      await new Promise(r => setTimeout(r, 10));
      log.push(`end ${n}`);
    });
    const keyed = (key: string, n: string, offset: string) => ({
      ...aMessage(JSON.stringify({n}), offset),
      key: Buffer.from(key),
    });
    await fake.deliver(
      keyed('a', 'a1', '1'),
      keyed('a', 'a2', '2'),
      keyed('b', 'b1', '3'),
      keyed('b', 'b2', '4'),
    );
    expect(log.indexOf('end a1')).to.be.below(log.indexOf('start a2'));
    expect(log.indexOf('end b1')).to.be.below(log.indexOf('start b2'));
    // The two keys ran side by side.
    expect(log.indexOf('start b1')).to.be.below(log.indexOf('end a1'));
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '5'}]]);
  });

  it('hands a batch’s events to the batch handler at once, then runs what it left of each in order per key', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    const log: string[] = [];
    const alone: string[] = [];
    let batches = 0;
    await service.subscribe(
      async received => {
        alone.push(String(received.payload.n));
      },
      async events => {
        batches++;
        log.push(`together ${events.map(e => e.payload.n).join(',')}`);
        return events.map(({payload: {n}}) =>
          // Odd ones have something left; a3's fails once.
          Number(String(n).slice(1)) % 2 === 0
            ? undefined
            : async () => {
                log.push(`start ${n}`);
                await new Promise(r => setTimeout(r, 10));
                if (n === 'a3' && !log.includes('failed a3')) {
                  log.push('failed a3');
                  throw new Error('engine hiccup');
                }
                log.push(`end ${n}`);
              },
        );
      },
    );
    const keyed = (key: string, value: string, offset: string) => ({
      ...aMessage(value, offset),
      key: Buffer.from(key),
    });
    const message = (key: string, n: string, offset: string) =>
      keyed(key, JSON.stringify({n}), offset);
    await fake.deliver(
      message('a', 'a1', '1'),
      message('b', 'b1', '2'),
      keyed('a', 'poison', '3'),
      message('a', 'a2', '4'),
      message('a', 'a3', '5'),
      message('b', 'b3', '6'),
      message('a', 'a5', '7'),
    );
    expect(batches).to.equal(1);
    expect(log[0]).to.equal('together a1,b1,a2,a3,b3,a5');
    // Lane a in its order, a3 retried before a5; lane b beside it.
    const a = log.filter(l => /^(start|end|failed) a/.test(l));
    expect(a).to.eql([
      'start a1',
      'end a1',
      'start a3',
      'failed a3',
      'start a3',
      'end a3',
      'start a5',
      'end a5',
    ]);
    expect(log.indexOf('start b1')).to.be.below(log.indexOf('end a1'));
    // The poison is no event: tried alone (never reaching the handler),
    // then dead-lettered.
    expect(alone).to.eql([]);
    expect(fake.sent.map(r => r.topic)).to.eql(['in.dlq']);
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '8'}]]);
  });

  it('hands each message to the handler alone when the batch handler fails', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    const alone: string[] = [];
    await service.subscribe(
      async received => {
        alone.push(String(received.payload.n));
      },
      async () => {
        throw new Error('database away');
      },
    );
    await fake.deliver(
      aMessage(JSON.stringify({n: 1}), '1'),
      aMessage(JSON.stringify({n: 2}), '2'),
    );
    expect(alone).to.eql(['1', '2']);
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '3'}]]);
  });

  it('commits only up to a message whose dead letter failed, then rejects', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    await service.subscribe(async received => {
      if ((received.payload as {fail?: boolean}).fail) throw new Error('bad');
    });
    fake.failSends = true;
    const keyed = (key: string, value: object, offset: string) => ({
      ...aMessage(JSON.stringify(value), offset),
      key: Buffer.from(key),
    });
    await expect(
      fake.deliver(
        keyed('x', {}, '1'),
        keyed('y', {fail: true}, '2'),
        keyed('z', {}, '3'),
      ),
    ).to.be.rejectedWith(/could not be written to in\.dlq/);
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '2'}]]);
  });

  it('keeps trying a message while the engine or the database is unavailable, never dead-lettering it for that', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    const failures = [
      Object.assign(new Error('engine not reachable'), {status: 503}),
      Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}),
      new Error('wrapped', {cause: {code: '57P01'}}),
      Object.assign(new Error('engine not reachable'), {status: 503}),
    ];
    let tries = 0;
    await service.subscribe(async () => {
      tries++;
      const failure = failures.shift();
      if (failure) throw failure;
    });
    await fake.deliver(aMessage('{}'));
    // Four unavailable failures, then handled: two attempts were never spent.
    expect(tries).to.equal(5);
    expect(fake.sent).to.eql([]);
    expect(fake.commits).to.eql([[{topic: 'in', partition: 0, offset: '8'}]]);

    // Other failures still count, and go to the dead-letter topic.
    await service.unsubscribe();
    const other = new FakeKafka();
    const failing = givenService(other);
    let tried = 0;
    await failing.subscribe(async () => {
      tried++;
      throw tried === 1
        ? Object.assign(new Error('engine away'), {status: 503})
        : new Error('bad payload');
    });
    await other.deliver(aMessage('{}'));
    expect(tried).to.equal(3);
    expect(other.sent.map(r => r.topic)).to.eql(['in.dlq']);
  });

  it('commits offset + 1 after the handler succeeded, also past 2^53', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    await service.subscribe(async () => {});
    await fake.deliver(aMessage('{}', '9007199254740993'));
    expect(fake.commits).to.eql([
      [{topic: 'in', partition: 0, offset: '9007199254740994'}],
    ]);
  });

  it('shares one connect between concurrent first publishes; a failed connect is retried by the next publish', async () => {
    const fake = new FakeKafka();
    fake.failConnects = 1;
    const service = givenService(fake);
    const results = await Promise.allSettled([
      service.publish(event),
      service.publish(event),
      service.publish(event),
    ]);
    expect(results.map(r => r.status)).to.eql([
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(fake.connects).to.equal(1);
    await Promise.all([service.publish(event), service.publish(event)]);
    expect(fake.connects).to.equal(2);
    expect(fake.sent).to.have.length(2);
  });

  it('publishes a batch as one sendBatch per MAX_BATCH_BYTES of messages, each after the one before it, in order', async () => {
    const fake = new FakeKafka();
    const service = givenService(fake);
    // ~100 kB each: ten to a request, so 25 events make three requests.
    const events = Array.from({length: 25}, (_, n) => ({
      ...event,
      payload: {taskId: `t${n % 3}`, n, pad: 'x'.repeat(100_000)},
    }));
    await service.publishBatch(events);
    expect(fake.batches.map(b => b.messages.length)).to.eql([9, 9, 7]);
    expect(fake.batches.map(b => b.inFlight)).to.eql([0, 0, 0]);
    const sent = fake.batches.flatMap(b =>
      b.messages.map(m => JSON.parse(String(m.value)).payload.n),
    );
    expect(sent).to.eql(events.map(e => e.payload.n));
    for (const batch of fake.batches) {
      const bytes = batch.messages.reduce(
        (sum, m) =>
          sum + Buffer.byteLength(String(m.key)) + (m.value as string).length,
        0,
      );
      expect(bytes).to.be.belowOrEqual(MAX_BATCH_BYTES);
    }
  });

  it('stops at the first sendBatch that fails and rejects with its error', async () => {
    const fake = new FakeKafka();
    fake.failBatchAt = 1;
    const service = givenService(fake);
    const events = Array.from({length: 25}, (_, n) => ({
      ...event,
      payload: {taskId: 't', n, pad: 'x'.repeat(100_000)},
    }));
    await expect(service.publishBatch(events)).to.be.rejectedWith(
      /record too large/,
    );
    expect(fake.batches).to.have.length(2);
  });

  it('says what is missing to subscribe or publish', async () => {
    const fake = new FakeKafka();
    const bare = new KafkaStreamService(
      {connection: {brokers: ['b:9092']}},
      fake as unknown as Kafka,
    );
    await expect(bare.subscribe(async () => {})).to.be.rejectedWith(
      /consumer\.groupId/,
    );
  });

  it('drops outgoing events without an output topic, warning once, as the original did', async () => {
    const fake = new FakeKafka();
    const log = capturingLogger('debug');
    const inOnly = new KafkaStreamService(
      {connection: {brokers: ['b:9092']}},
      fake as unknown as Kafka,
      undefined,
      log.logger,
    );
    await inOnly.publish(event);
    await inOnly.publish({...event, key: 'task-completed'});
    expect(fake.sent).to.eql([]);
    expect(fake.connects).to.equal(0);
    const warnings = log.records().filter(r => r.level === 'warn');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.containDeep({eventKey: 'task-created'});
    expect(String(warnings[0].msg)).to.match(
      /output\.topic is not set, so outgoing events are dropped/,
    );
  });
});

describe('bySize (unit)', () => {
  const m = (key: string | null, value: string | Buffer | null): Message => ({
    key,
    value,
  });

  it('cuts messages in order into parts of at most maxBytes of keys and values', () => {
    const messages = [
      m('ab', '123'),
      m(null, Buffer.from('12345')),
      m('a', '1'),
      m('abc', null),
      m('', 'é'),
    ];
    // Sizes 5, 5, 2, 3, 2: bytes, so 'é' counts 2.
    expect(bySize(messages, 10)).to.eql([
      [messages[0], messages[1]],
      [messages[2], messages[3], messages[4]],
    ]);
    expect(bySize(messages, 7)).to.eql([
      [messages[0]],
      [messages[1], messages[2]],
      [messages[3], messages[4]],
    ]);
  });

  it('puts a message larger than maxBytes in a part of its own, and nothing in no part', () => {
    const big = m('k', 'x'.repeat(20));
    expect(bySize([m('a', 'b'), big, m('c', 'd')], 10)).to.eql([
      [m('a', 'b')],
      [big],
      [m('c', 'd')],
    ]);
    expect(bySize([], 10)).to.eql([]);
  });
});

describe('the kafka subpath', () => {
  const root = join(__dirname, '../../..');

  it('resolves through the top-level kafka/ folder (older module resolution) and through exports', () => {
    const direct = require(join(root, 'dist/connectors/kafka'));
    const viaFolder = require(join(root, 'kafka'));
    const viaExports = require('loopback4-task-service/kafka');
    expect(viaFolder.KafkaStreamService).to.equal(direct.KafkaStreamService);
    expect(viaExports.TaskServiceKafkaModule).to.equal(
      direct.TaskServiceKafkaModule,
    );
    expect(direct.TaskServiceKafkaModule.CONFIG.key).to.equal(
      'sf.task.kafka.config',
    );
  });
});
