import {juggler} from '@loopback/repository';
import {AddressInfo, createConnection, createServer} from 'net';
import {Client, expect} from '@loopback/testlab';
import {
  HttpStreamService,
  TaskHttpBindings,
  TaskHttpComponent,
  TaskHttpConfig,
} from '../../connectors/http';
import {IEvent} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {EventOutbox} from '../../services';
import {TaskDbSourceName} from '../../types';
import {testHttpConfig} from '../fixtures/http-config';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';
import {WebhookReceiver, verifySignature} from '../fixtures/webhook-receiver';

const CONFIG: TaskHttpConfig = {
  delivery: {
    maxAttempts: 3,
    initialBackoffMs: 50,
    maxBackoffMs: 200,
    timeoutMs: 5000,
    pollIntervalMs: 25,
    concurrency: 4,
  },
};

function givenHttpApp(db: TestDatabase, config = CONFIG) {
  return givenTestApp({
    db,
    after: app => {
      app.component(TaskHttpComponent);
      app.bind(TaskHttpBindings.CONFIG).to(testHttpConfig(config));
    },
  });
}

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  total_attempts: number;
}
interface AttemptRow {
  attempt_no: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  worker: string;
}

describe('Webhook delivery (PostgreSQL, real HTTP receivers)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  let connector: HttpStreamService;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  const receivers: WebhookReceiver[] = [];
  let n = 0;

  before(async () => {
    db = await TestDatabase.create();
    t = await givenHttpApp(db);
    client = t.client;
    connector = (await t.app.get(
      TaskServiceBindings.OUTGOING_CONNECTOR,
    )) as HttpStreamService;
  });
  after(async () => {
    await t?.stop();
    await Promise.all(receivers.map(r => r.stop()));
    await db?.drop();
  });

  async function givenReceiver(port = 0) {
    const r = await new WebhookReceiver(port).start();
    receivers.push(r);
    return r;
  }

  /** A client app subscribed to a fresh event key at `url`. */
  async function givenSubscriber(url: string) {
    const key = `event-${++n}`;
    const res = await client
      .post('/client-apps')
      .set(admin)
      .send({clientName: `client-${n}`})
      .expect(200);
    const creds = {
      'x-api-key': res.body.apiKey as string,
      'x-api-secret': res.body.apiSecret as string,
    };
    await client
      .post('/webhooks/subscribe')
      .set(admin)
      .set(creds)
      .send({url, key})
      .expect(200);
    return {key, creds, secret: res.body.apiSecret as string};
  }

  function eventFor(key: string, payload: object = {n: 1}): IEvent {
    return {key, payload, timestamp: Date.now(), source: 'task-service'};
  }

  function deliveriesOf(key: string) {
    return db.query<DeliveryRow>(
      'SELECT id, status, attempts, total_attempts FROM main.webhook_deliveries WHERE event_key = $1',
      [key],
    );
  }

  function attemptsOf(deliveryId: string) {
    return db.query<AttemptRow>(
      'SELECT attempt_no, status_code, error, duration_ms, worker FROM main.webhook_delivery_attempts WHERE delivery_id = $1 ORDER BY attempt_no',
      [deliveryId],
    );
  }

  it('posts the exact event body, signed with the subscriber’s secret, with a delivery id', async () => {
    const receiver = await givenReceiver();
    const sub = await givenSubscriber(receiver.url);
    const event = eventFor(sub.key, {taskId: 't-1', tags: ['a', 'ü']});
    await connector.publish(event);
    const [hook] = await eventually(
      () => receiver.received.length === 1 && receiver.received,
      'the webhook',
    );
    expect(hook.body).to.equal(JSON.stringify(event));
    expect(hook.headers['content-type']).to.equal('application/json');
    expect(verifySignature(hook.body, hook.headers, sub.secret)).to.be.true();
    expect(
      verifySignature(hook.body, hook.headers, 'another-secret'),
    ).to.be.false();
    expect(
      verifySignature(
        hook.body.replace('t-1', 't-2'),
        hook.headers,
        sub.secret,
      ),
    ).to.be.false();
    const [row] = await eventually(async () => {
      const rows = await deliveriesOf(sub.key);
      return rows[0]?.status === 'delivered' && rows;
    }, 'delivered status');
    expect(hook.deliveryId).to.equal(row.id);
    const attempts = await attemptsOf(row.id);
    expect(attempts).to.have.length(1);
    expect(attempts[0]).to.containDeep({
      attempt_no: 1,
      status_code: 200,
      error: null,
    });
  });

  it('publish with no subscriber queues nothing', async () => {
    await connector.publish(eventFor('nobody-listens'));
    expect(await deliveriesOf('nobody-listens')).to.have.length(0);
  });

  it('events from the core outbox reach the subscribers', async () => {
    const receiver = await givenReceiver();
    const sub = await givenSubscriber(receiver.url);
    const outbox = await t.app.get<EventOutbox>('services.EventOutbox');
    await outbox.add(eventFor(sub.key, {via: 'outbox'}));
    const [hook] = await eventually(
      () => receiver.received.length > 0 && receiver.received,
      'the webhook from the outbox',
    );
    expect(JSON.parse(hook.body).payload).to.eql({via: 'outbox'});
  });

  it('publish inside a caller’s transaction queues only on commit', async () => {
    const receiver = await givenReceiver();
    const sub = await givenSubscriber(receiver.url);
    const ds = await t.app.get<juggler.DataSource>(
      `datasources.${TaskDbSourceName}`,
    );
    const rolledBack = await ds.beginTransaction({});
    await connector.publish(eventFor(sub.key, {v: 'rolled back'}), {
      transaction: rolledBack,
    });
    await rolledBack.rollback();
    const committed = await ds.beginTransaction({});
    await connector.publish(eventFor(sub.key, {v: 'committed'}), {
      transaction: committed,
    });
    expect(await deliveriesOf(sub.key)).to.have.length(0);
    await committed.commit();
    await eventually(() => receiver.received.length === 1, 'the committed one');
    await new Promise(r => setTimeout(r, 200));
    expect(receiver.received.map(h => JSON.parse(h.body).payload.v)).to.eql([
      'committed',
    ]);
    expect(await deliveriesOf(sub.key)).to.have.length(1);
  });

  it('receiver down, then up: delivered after a retry, exactly once', async () => {
    // In front of the receiver, a port that drops the first connection (the
    // receiver is down) and passes the next ones on (it is back): no race
    // between bringing it up and the retries running out.
    const receiver = await givenReceiver();
    let connections = 0;
    const gate = createServer(socket => {
      if (connections++ === 0) {
        socket.destroy();
        return;
      }
      const upstream = createConnection(receiver.port, '127.0.0.1');
      for (const side of [socket, upstream]) {
        side.on('error', () => {
          socket.destroy();
          upstream.destroy();
        });
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>(resolve => gate.listen(0, '127.0.0.1', resolve));
    const port = (gate.address() as AddressInfo).port;
    const sub = await givenSubscriber(`http://127.0.0.1:${port}/hook`);
    await connector.publish(eventFor(sub.key));
    const [row] = await deliveriesOf(sub.key);
    await eventually(async () => {
      const [r] = await deliveriesOf(sub.key);
      return r.status === 'delivered';
    }, 'delivery after the receiver came up');
    await new Promise(r => setTimeout(r, 200));
    expect([...receiver.countsById()]).to.eql([[row.id, 1]]);
    const attempts = await attemptsOf(row.id);
    expect(attempts.length).to.be.within(2, 3);
    expect(attempts[0].status_code).to.be.null();
    expect(attempts[0].error).to.match(
      /ECONNRESET|socket hang up|other side closed|fetch failed/,
    );
    expect(attempts[attempts.length - 1].status_code).to.equal(200);
    gate.close();
  });

  it('receiver always 500: dead after maxAttempts, every attempt recorded; re-queued by the route, then delivered', async () => {
    const receiver = await givenReceiver();
    receiver.behaviour = () => 500;
    const sub = await givenSubscriber(receiver.url);
    await connector.publish(eventFor(sub.key));
    const [row] = await eventually(async () => {
      const rows = await deliveriesOf(sub.key);
      return rows[0]?.status === 'dead' && rows;
    }, 'the dead delivery');
    expect(row.attempts).to.equal(3);
    const attempts = await attemptsOf(row.id);
    expect(attempts.map(a => [a.attempt_no, a.status_code])).to.eql([
      [1, 500],
      [2, 500],
      [3, 500],
    ]);
    expect(attempts.every(a => a.error === 'HTTP 500')).to.be.true();
    expect(receiver.received.map(h => h.deliveryId)).to.eql([
      row.id,
      row.id,
      row.id,
    ]);

    // The client sees it, with its attempts; another client does not.
    const listed = await client
      .get('/webhooks/deliveries?status=dead')
      .set(admin)
      .set(sub.creds)
      .expect(200);
    expect(listed.body).to.have.length(1);
    expect(listed.body[0]).to.containDeep({
      id: row.id,
      status: 'dead',
      eventKey: sub.key,
      lastStatusCode: 500,
    });
    expect(
      listed.body[0].attemptLog.map((a: {statusCode: number}) => a.statusCode),
    ).to.eql([500, 500, 500]);
    expect(JSON.stringify(listed.body)).to.not.containEql(sub.secret);
    const other = await givenSubscriber('http://127.0.0.1:9/other');
    const otherList = await client
      .get('/webhooks/deliveries')
      .set(admin)
      .set(other.creds)
      .expect(200);
    expect(otherList.body).to.have.length(0);
    await client
      .post(`/webhooks/deliveries/${row.id}/retry`)
      .set(admin)
      .set(other.creds)
      .expect(404);
    await client
      .get('/webhooks/deliveries')
      .set(admin)
      .set({...sub.creds, 'x-api-secret': 'nope'})
      .expect(401);

    // Fixed receiver, re-queued: delivered, with the same delivery id.
    receiver.behaviour = () => 204;
    const retried = await client
      .post(`/webhooks/deliveries/${row.id}/retry`)
      .set(admin)
      .set(sub.creds)
      .expect(200);
    expect(retried.body).to.containDeep({status: 'pending', attempts: 0});
    await eventually(async () => {
      const [r] = await deliveriesOf(sub.key);
      return r.status === 'delivered';
    }, 'the re-queued delivery');
    expect(receiver.received.map(h => h.deliveryId)).to.eql([
      row.id,
      row.id,
      row.id,
      row.id,
    ]);
    expect((await attemptsOf(row.id)).map(a => a.attempt_no)).to.eql([
      1, 2, 3, 4,
    ]);
    const again = await client
      .post(`/webhooks/deliveries/${row.id}/retry`)
      .set(admin)
      .set(sub.creds)
      .expect(409);
    expect(again.body.error.message).to.match(/only a dead delivery/i);
  });

  it('a slow receiver does not slow publish, and holds no database transaction', async () => {
    const receiver = await givenReceiver();
    let release!: () => void;
    const released = new Promise<void>(r => (release = r));
    let responded = false;
    receiver.behaviour = async () => {
      // Sleeps 3 s unless released earlier.
      await Promise.race([released, new Promise(r => setTimeout(r, 3000))]);
      responded = true;
      return 200;
    };
    const sub = await givenSubscriber(receiver.url);
    await connector.publish(eventFor(sub.key, {i: 1}));
    await eventually(() => receiver.received.length === 1, 'the first POST');
    // The receiver is now holding a request open.
    await connector.publish(eventFor(sub.key, {i: 2}));
    expect(responded).to.be.false();
    // The first request has been held for a second now: no session may
    // have had a transaction open for that long (short ones, such as the
    // core outbox's polls, come and go).
    await new Promise(r => setTimeout(r, 1000));
    expect(responded).to.be.false();
    const idleInTx = await db.query(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND xact_start < now() - interval '500 milliseconds'
          AND pid <> pg_backend_pid()`,
      [db.name],
    );
    expect(idleInTx).to.have.length(0);
    expect(await deliveriesOf(sub.key)).to.have.length(2);
    release();
    await eventually(async () => {
      const rows = await deliveriesOf(sub.key);
      return rows.every(r => r.status === 'delivered');
    }, 'both delivered');
  });

  it('two instances on one database: 200 deliveries, each sent exactly once, work shared', async () => {
    const second = await givenHttpApp(db);
    try {
      const receiver = await givenReceiver();
      // A little latency so both workers have claims in flight at once.
      receiver.behaviour = () =>
        new Promise(r => setTimeout(() => r(200), Math.random() * 5));
      const sub = await givenSubscriber(receiver.url);
      const other = (await second.app.get(
        TaskServiceBindings.OUTGOING_CONNECTOR,
      )) as HttpStreamService;
      for (let i = 0; i < 200; i++) {
        await (i % 2 ? other : connector).publish(eventFor(sub.key, {i}));
      }
      await eventually(
        () => receiver.received.length >= 200,
        '200 webhooks',
        30000,
      );
      await new Promise(r => setTimeout(r, 300));
      const counts = receiver.countsById();
      expect(receiver.received.length).to.equal(200);
      expect(counts.size).to.equal(200);
      expect([...counts.values()].every(c => c === 1)).to.be.true();
      const payloads = new Set(
        receiver.received.map(h => JSON.parse(h.body).payload.i),
      );
      expect(payloads.size).to.equal(200);
      const workers = await db.query<{worker: string; n: string}>(
        `SELECT a.worker, count(*) AS n FROM main.webhook_delivery_attempts a
           JOIN main.webhook_deliveries d ON d.id = a.delivery_id
          WHERE d.event_key = $1 GROUP BY a.worker`,
        [sub.key],
      );
      expect(workers).to.have.length(2);
      expect(workers.reduce((s, w) => s + Number(w.n), 0)).to.equal(200);
    } finally {
      await second.stop();
    }
  });
});
