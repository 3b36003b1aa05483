import {expect} from '@loopback/testlab';
import dns, {LookupAddress} from 'dns';
import {createServer, Server} from 'http';
import {AddressInfo} from 'net';
import {
  assertAllowedHost,
  classifyAddress,
  guardedLookup,
  validateWebhookUrl,
  WebhookHttpClient,
  WebhookUrlError,
} from '../../security';

/** Every way of writing an address the issue lists, and their neighbours. */
const FORBIDDEN = [
  'http://169.254.169.254/latest/meta-data/',
  'http://169.254.170.2/v2/credentials',
  'http://[fd00:ec2::254]/latest',
  'http://100.100.100.200/latest/meta-data',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://169.254.1.1/',
  'http://[fe80::1]/',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://0.0.0.0/',
  'http://0/',
  'http://[::]/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://[ff02::1]/',
];
const PRIVATE = [
  'http://127.0.0.1/',
  'http://2130706433/', // 127.0.0.1 in decimal
  'http://0x7f000001/', // in hex
  'http://0177.0.0.1/', // in octal
  'http://127.1/', // short form
  'http://0x7f.1/',
  'http://localhost:4000/hooks',
  'http://api.localhost/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[::127.0.0.1]/', // IPv4-compatible
  'http://[64:ff9b::7f00:1]/', // NAT64
  'http://[2002:7f00:1::]/', // 6to4
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.0.10/',
  'http://[fd12:3456::1]/',
  'http://100.64.0.1/',
];

describe('Webhook URL guard (unit)', () => {
  it('classifies addresses however they are written', () => {
    expect(classifyAddress('169.254.169.254')).to.eql({
      class: 'forbidden',
      reason: 'cloud metadata',
    });
    expect(classifyAddress('[::ffff:a9fe:a9fe]')?.class).to.equal('forbidden');
    expect(classifyAddress('2130706433')?.reason).to.equal('loopback');
    expect(classifyAddress('::ffff:7f00:1')?.reason).to.equal('loopback');
    expect(classifyAddress('64:ff9b::a9fe:a9fe')?.class).to.equal('forbidden');
    expect(classifyAddress('10.0.0.1')?.class).to.equal('private');
    expect(classifyAddress('93.184.216.34')?.class).to.equal('public');
    expect(classifyAddress('2606:4700::1111')?.class).to.equal('public');
    // A public IPv4 address inside a translation range is not plainly public.
    expect(classifyAddress('::ffff:93.184.216.34')?.class).to.equal('private');
    expect(classifyAddress('example.com')).to.be.undefined();
  });

  describe('by default (allowPrivateUrls false)', () => {
    for (const url of [...FORBIDDEN, ...PRIVATE]) {
      it(`refuses ${url}`, async () => {
        await expect(validateWebhookUrl(url, false)).to.be.rejectedWith(
          WebhookUrlError,
        );
      });
    }

    it('accepts a public address literal', async () => {
      expect(
        await validateWebhookUrl('https://93.184.216.34/hook', false),
      ).to.equal('https://93.184.216.34/hook');
    });

    it('refuses a name that does not resolve', async () => {
      await expect(
        validateWebhookUrl('https://no-such-host.invalid/hook', false),
      ).to.be.rejectedWith(/does not resolve/);
    });
  });

  describe('with allowPrivateUrls', () => {
    for (const url of FORBIDDEN) {
      it(`still refuses ${url}`, async () => {
        await expect(validateWebhookUrl(url, true)).to.be.rejectedWith(
          /metadata|link-local|unspecified|multicast|broadcast/,
        );
      });
    }
    for (const url of PRIVATE) {
      it(`accepts ${url}`, async () => {
        await validateWebhookUrl(url, true);
      });
    }
  });

  it('refuses other schemes and credentials in the URL', async () => {
    await expect(
      validateWebhookUrl('ftp://93.184.216.34/', true),
    ).to.be.rejectedWith(/scheme/);
    await expect(
      validateWebhookUrl('http://user:pw@93.184.216.34/', true),
    ).to.be.rejectedWith(/credentials/);
    await expect(validateWebhookUrl('not a url', true)).to.be.rejectedWith(
      /well-formed/,
    );
  });

  describe('at connect time (WebhookHttpClient)', () => {
    let server: Server;
    let other: Server;
    let port: number;
    let otherPort: number;
    const hits: string[] = [];

    before(async () => {
      other = createServer((req, res) => {
        hits.push(`other ${req.url}`);
        res.end();
      });
      otherPort = await listen(other);
      server = createServer((req, res) => {
        hits.push(`${req.method} ${req.url}`);
        if (req.url === '/redirect') {
          res.statusCode = 302;
          res.setHeader('location', `http://127.0.0.1:${otherPort}/stolen`);
        }
        res.end('answer');
      });
      port = await listen(server);
    });
    beforeEach(() => (hits.length = 0));
    after(async () => {
      for (const s of [server, other]) {
        s.closeAllConnections();
        await new Promise(r => s.close(r));
      }
    });

    /**
     * A resolver whose answer changes after the first question (DNS
     * rebinding). Only loopback is ever connected to in these tests.
     */
    function rebinding(answers: string[]) {
      let asked = 0;
      const next = (): LookupAddress[] => [
        {address: answers[Math.min(asked++, answers.length - 1)], family: 4},
      ];
      return {
        callback: ((
          _name: string,
          _options: object,
          done: (err: Error | null, addresses: LookupAddress[]) => void,
        ) => done(null, next())) as unknown as typeof dns.lookup,
        promise: (async () => next()) as unknown as typeof dns.promises.lookup,
      };
    }

    it('refuses a name that resolves to a private address now, though it was public when checked', async () => {
      const answers = rebinding(['93.184.216.34', '127.0.0.1']);
      // At subscription the name is public...
      await assertAllowedHost('rebind.example', false, answers.promise);
      const client = new WebhookHttpClient({
        allowPrivateUrls: false,
        timeoutMs: 5000,
        resolve: answers.callback,
      });
      try {
        // ...and when the delivery connects it is this host: refused
        // before the socket connects.
        await expect(
          client.post(`http://rebind.example:${port}/hook`, '{}', {}),
        ).to.be.rejectedWith(/resolves to 127\.0\.0\.1/);
        expect(hits).to.eql([]);
      } finally {
        client.destroy();
      }
    });

    it('a receiver that does not answer in timeoutMs fails the request, with the time', async () => {
      const silent = createServer(() => {
        // Reads the request, never answers.
      });
      const silentPort = await listen(silent);
      const client = new WebhookHttpClient({
        allowPrivateUrls: true,
        timeoutMs: 200,
      });
      try {
        const err = await client
          .post(`http://127.0.0.1:${silentPort}/hook`, '{}', {})
          .then(
            () => undefined,
            (e: Error) => e,
          );
        expect(err?.name).to.equal('TimeoutError');
        expect(err?.message).to.equal('timed out after 200 ms');
        // An answered request leaves no timer behind.
        const timers = () =>
          process.getActiveResourcesInfo().filter(r => r === 'Timeout').length;
        const before = timers();
        await client.post(`http://127.0.0.1:${port}/hook`, '{}', {});
        expect(timers()).to.equal(before);
      } finally {
        client.destroy();
        silent.closeAllConnections();
        await new Promise(r => silent.close(r));
      }
    });

    it('refuses localhost and loopback literals by default, sends nothing', async () => {
      const client = new WebhookHttpClient({
        allowPrivateUrls: false,
        timeoutMs: 5000,
      });
      try {
        for (const host of [
          'localhost',
          '127.0.0.1',
          '[::ffff:7f00:1]',
          '2130706433',
        ]) {
          await expect(
            client.post(`http://${host}:${port}/hook`, '{}', {}),
          ).to.be.rejected();
        }
        expect(hits).to.eql([]);
      } finally {
        client.destroy();
      }
    });

    it('the connect-time lookup refuses metadata and link-local answers even with allowPrivateUrls', async () => {
      for (const address of ['169.254.169.254', '169.254.10.10', '0.0.0.0']) {
        const lookup = guardedLookup(true, rebinding([address]).callback);
        const err = await new Promise<Error | null>(resolve =>
          lookup('metadata.example', {}, e => resolve(e)),
        );
        expect(err?.message).to.match(/metadata|link-local|unspecified/);
      }
      const allowed = guardedLookup(true, rebinding(['10.0.0.1']).callback);
      const address = await new Promise<unknown>(resolve =>
        allowed('intranet.example', {}, (_e, a) => resolve(a)),
      );
      expect(address).to.equal('10.0.0.1');
    });

    it('with allowPrivateUrls posts the exact body and headers, and never follows a redirect', async () => {
      const client = new WebhookHttpClient({
        allowPrivateUrls: true,
        timeoutMs: 5000,
      });
      try {
        const ok = await client.post(
          `http://localhost:${port}/hook`,
          '{"a":1}',
          {
            'content-type': 'application/json',
          },
        );
        expect(ok).to.eql({statusCode: 200, text: 'answer'});
        const moved = await client.post(
          `http://127.0.0.1:${port}/redirect`,
          '{}',
          {},
        );
        expect(moved.statusCode).to.equal(302);
        expect(hits).to.eql(['POST /hook', 'POST /redirect']);
      } finally {
        client.destroy();
      }
    });
  });
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
