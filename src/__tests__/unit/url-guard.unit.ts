import {expect} from '@loopback/testlab';
import {
  assertPublicHost,
  isNonPublicAddress,
  validateWebhookUrl,
  WebhookUrlError,
} from '../../connectors/http';

describe('The webhook URL guard (unit)', () => {
  it('tells public from non-public IP addresses, IPv4-mapped IPv6 included', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isNonPublicAddress(address)).to.be.true();
    }
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
    ]) {
      expect(isNonPublicAddress(address)).to.be.false();
    }
    expect(isNonPublicAddress('not-an-ip')).to.be.false();
  });

  it('refuses loopback names and non-public IP literals without asking DNS', async () => {
    await expect(assertPublicHost('localhost')).to.be.rejectedWith(
      /loopback address/,
    );
    await expect(assertPublicHost('api.localhost')).to.be.rejectedWith(
      /loopback address/,
    );
    await expect(assertPublicHost('[::1]')).to.be.rejectedWith(
      /non-public address ::1/,
    );
    await expect(assertPublicHost('10.0.0.5')).to.be.rejectedWith(
      WebhookUrlError,
    );
    await assertPublicHost('8.8.8.8');
  });

  it('takes well-formed http(s) URLs without credentials', async () => {
    expect(
      await validateWebhookUrl('http://127.0.0.1:4000/hooks', true),
    ).to.equal('http://127.0.0.1:4000/hooks');
    expect(await validateWebhookUrl('https://8.8.8.8/h', false)).to.equal(
      'https://8.8.8.8/h',
    );
  });

  it('says why it refuses a URL; the refusal is of kind "rejected" (422)', async () => {
    const cases: [string, RegExp][] = [
      ['not a url', /not a well-formed URL/],
      ['ftp://example.com/x', /scheme must be http or https, not ftp/],
      ['http://user:pw@example.com/', /must not contain credentials/],
    ];
    for (const [url, reason] of cases) {
      const err = await validateWebhookUrl(url, true).catch(e => e);
      expect(err).to.be.instanceOf(WebhookUrlError);
      expect(err.message).to.match(reason);
      expect(err.kind).to.equal('rejected');
    }
    await expect(
      validateWebhookUrl('http://192.168.0.10/hook', false),
    ).to.be.rejectedWith(/non-public address 192.168.0.10/);
  });
});
