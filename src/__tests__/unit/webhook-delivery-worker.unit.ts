import {expect} from '@loopback/testlab';
import {randomBytes} from 'crypto';
import http from 'http';
import {AddressInfo} from 'net';
import {
  AttemptOutcome,
  ClaimedDelivery,
  WebhookDeliveryStore,
} from '../../connectors/http/stores/webhook-delivery.store';
import {WebhookDeliveryWorker} from '../../connectors/http/services/webhook-delivery.worker';
import {SecretCipher} from '../../security';

/** A promise and the function that settles it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>(r => (resolve = r));
  return {promise, resolve};
}

describe('Webhook delivery worker (unit, a real local receiver)', () => {
  let server: http.Server;
  let url: string;
  const received: string[] = [];
  let hold = deferred<void>();

  before(async () => {
    server = http.createServer((req, res) => {
      received.push(String(req.headers['x-task-delivery-id']));
      req.resume();
      hold.promise.then(
        () => res.writeHead(204).end(),
        () => res.destroy(),
      );
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });

  after(() => new Promise<void>(r => server.close(() => r())));

  it('starts nothing a claim returns while it stops, and gives that back', async () => {
    received.length = 0;
    hold = deferred<void>();
    const cipher = new SecretCipher([
      {id: 'k1', key: randomBytes(32).toString('base64')},
    ]);
    const secret = cipher.encrypt('client-secret');
    const delivery = (id: string): ClaimedDelivery => ({
      id,
      url,
      body: JSON.stringify({key: 'task-created', payload: {id}}),
      attempts: 0,
      attemptNo: 1,
      lockToken: `token-${id}`,
      apiSecret: secret,
    });
    const lateClaim = deferred<ClaimedDelivery[]>();
    const claimStarted = deferred<void>();
    const claims = [
      () => Promise.resolve([delivery('d1')]),
      () => {
        claimStarted.resolve();
        return lateClaim.promise;
      },
    ];
    const released: string[] = [];
    const recorded: string[] = [];
    const store: WebhookDeliveryStore = {
      enqueue: async () => 0,
      claim: async () => (claims.shift() ?? (async () => []))(),
      release: async (given: ClaimedDelivery[]) => {
        released.push(...given.map(d => d.id));
      },
      record: async (claim: ClaimedDelivery, outcome: AttemptOutcome) => {
        recorded.push(`${claim.id}:${outcome.delivered}`);
      },
      requeueDead: async () => false,
    };
    const worker = new WebhookDeliveryWorker(store, cipher, {
      allowPrivateUrls: true,
      delivery: {concurrency: 2, pollIntervalMs: 10},
    });
    worker.start();
    // One slot holds a POST; with the other free, the worker claims again.
    await claimStarted.promise;
    while (received.length < 1) await new Promise(r => setTimeout(r, 5));
    const stopping = worker.stop();
    hold.resolve();
    // The POST in flight ends, then the claim under way returns two more,
    // with both slots free.
    while (recorded.length < 1) await new Promise(r => setTimeout(r, 5));
    lateClaim.resolve([delivery('d2'), delivery('d3')]);
    await stopping;

    expect(received).to.eql(['d1']);
    expect(recorded).to.eql(['d1:true']);
    expect(released).to.eql(['d2', 'd3']);
  });
});
