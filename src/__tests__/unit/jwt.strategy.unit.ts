import {expect, sinon} from '@loopback/testlab';
import {generateKeyPairSync} from 'crypto';
import jwt from 'jsonwebtoken';
import {BearerJwtStrategy, JwtVerificationConfig} from '../../auth';

function request(token?: string) {
  return {headers: token ? {authorization: `Bearer ${token}`} : {}} as never;
}

describe('BearerJwtStrategy (unit)', () => {
  const claims = {
    id: 'u-1',
    username: 'ann',
    userTenantId: 't-1',
    permissions: ['16003'],
  };

  it('accepts an HS256 token and maps the original claims', async () => {
    const strategy = new BearerJwtStrategy({secret: 's'});
    const user = await strategy.authenticate(
      request(jwt.sign(claims, 's', {expiresIn: 60})),
    );
    expect(user).to.containDeep({
      id: 'u-1',
      username: 'ann',
      userTenantId: 't-1',
      permissions: ['16003'],
    });
  });

  it('takes the user id from sub when there is no id', async () => {
    const strategy = new BearerJwtStrategy({secret: 's'});
    const user = await strategy.authenticate(
      request(jwt.sign({sub: 'u-9', permissions: []}, 's', {expiresIn: 60})),
    );
    expect(user.id).to.equal('u-9');
  });

  it('accepts an RS256 token with the public key and refuses an HS256 one signed with it', async () => {
    const {publicKey, privateKey} = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    const pem = publicKey.export({type: 'spki', format: 'pem'}).toString();
    const config: JwtVerificationConfig = {publicKey: pem};
    const strategy = new BearerJwtStrategy(config);
    const token = jwt.sign(claims, privateKey, {
      algorithm: 'RS256',
      expiresIn: 60,
    });
    expect((await strategy.authenticate(request(token))).id).to.equal('u-1');
    // The classic confusion attack: the public key used as an HMAC secret.
    const forged = jwt.sign(claims, 'not-the-key', {
      algorithm: 'HS256',
      expiresIn: 60,
    });
    await expect(strategy.authenticate(request(forged))).to.be.rejectedWith({
      statusCode: 401,
    });
  });

  it('enforces exp and the issuer, and needs a user id', async () => {
    const strategy = new BearerJwtStrategy({secret: 's', issuer: 'me'});
    const expired = jwt.sign(
      {...claims, exp: Math.floor(Date.now() / 1000) - 10},
      's',
      {issuer: 'me'},
    );
    await expect(strategy.authenticate(request(expired))).to.be.rejectedWith(
      /expired/,
    );
    const other = jwt.sign(claims, 's', {issuer: 'you'});
    await expect(strategy.authenticate(request(other))).to.be.rejectedWith(
      /issuer/,
    );
    const anonymous = jwt.sign({permissions: []}, 's', {
      issuer: 'me',
      expiresIn: 60,
    });
    await expect(strategy.authenticate(request(anonymous))).to.be.rejectedWith(
      /no user id/,
    );
  });

  it('refuses a token that never expires', async () => {
    const strategy = new BearerJwtStrategy({secret: 's'});
    await expect(
      strategy.authenticate(request(jwt.sign(claims, 's'))),
    ).to.be.rejectedWith(/no expiry/);
  });

  it('401 without a header, with another scheme, or without configuration', async () => {
    await expect(
      new BearerJwtStrategy({secret: 's'}).authenticate(request()),
    ).to.be.rejectedWith({statusCode: 401});
    const basic = {headers: {authorization: 'Basic abc'}} as never;
    await expect(
      new BearerJwtStrategy({secret: 's'}).authenticate(basic),
    ).to.be.rejectedWith({statusCode: 401});
    const token = jwt.sign(claims, 's');
    await expect(
      new BearerJwtStrategy({}).authenticate(request(token)),
    ).to.be.rejectedWith(/not configured/);
  });

  it('verifies with the secret configured now, also after another was used', async () => {
    const token = jwt.sign(claims, 'first', {expiresIn: 60});
    const first = new BearerJwtStrategy({secret: 'first'});
    expect((await first.authenticate(request(token))).id).to.equal('u-1');
    const second = new BearerJwtStrategy({secret: 'second'});
    await expect(second.authenticate(request(token))).to.be.rejectedWith(
      /invalid signature/,
    );
    expect((await first.authenticate(request(token))).id).to.equal('u-1');
  });

  it('401 when the configured public key is not a key', async () => {
    const token = jwt.sign(claims, 's', {expiresIn: 60});
    await expect(
      new BearerJwtStrategy({publicKey: 'not a PEM'}).authenticate(
        request(token),
      ),
    ).to.be.rejectedWith({statusCode: 401});
  });

  describe('a token verified before', () => {
    let clock: sinon.SinonFakeTimers | undefined;
    let verify: sinon.SinonSpy | undefined;

    afterEach(() => {
      clock?.restore();
      verify?.restore();
      clock = verify = undefined;
    });

    it('is taken again without verifying it anew, until it expires', async () => {
      const now = Date.now();
      clock = sinon.useFakeTimers({now, toFake: ['Date']});
      const secret = `cache-${now}`;
      const token = jwt.sign(claims, secret, {expiresIn: 60});
      const strategy = new BearerJwtStrategy({secret});
      verify = sinon.spy(jwt, 'verify');
      expect((await strategy.authenticate(request(token))).id).to.equal('u-1');
      const again = await new BearerJwtStrategy({secret}).authenticate(
        request(token),
      );
      expect(again).to.containDeep({id: 'u-1', permissions: ['16003']});
      expect(verify.callCount).to.equal(1);
      // At its exp it is verified again, and refused as jsonwebtoken says.
      clock.tick(60_000);
      await expect(strategy.authenticate(request(token))).to.be.rejectedWith(
        /Invalid token: jwt expired/,
      );
      expect(verify.callCount).to.equal(2);
    });

    it('is verified anew for another issuer or another secret', async () => {
      const secret = `issuers-${Date.now()}`;
      const token = jwt.sign(claims, secret, {issuer: 'me', expiresIn: 60});
      expect(
        (
          await new BearerJwtStrategy({secret, issuer: 'me'}).authenticate(
            request(token),
          )
        ).id,
      ).to.equal('u-1');
      await expect(
        new BearerJwtStrategy({secret, issuer: 'you'}).authenticate(
          request(token),
        ),
      ).to.be.rejectedWith(/jwt issuer invalid/);
      await expect(
        new BearerJwtStrategy({secret: `${secret}-other`}).authenticate(
          request(token),
        ),
      ).to.be.rejectedWith(/invalid signature/);
    });

    it('is not taken before its nbf', async () => {
      const now = Date.now();
      clock = sinon.useFakeTimers({now, toFake: ['Date']});
      const secret = `nbf-${now}`;
      const token = jwt.sign(claims, secret, {expiresIn: 60});
      const strategy = new BearerJwtStrategy({secret});
      expect((await strategy.authenticate(request(token))).id).to.equal('u-1');
      // A token with nbf, verified once, and a clock set back before it.
      const later = jwt.sign({...claims, nbf: Math.floor(now / 1000)}, secret, {
        expiresIn: 60,
      });
      expect((await strategy.authenticate(request(later))).id).to.equal('u-1');
      clock.setSystemTime(now - 10_000);
      await expect(strategy.authenticate(request(later))).to.be.rejectedWith(
        /jwt not active/,
      );
    });
  });
});
