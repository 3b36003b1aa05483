import {expect} from '@loopback/testlab';
import {randomBytes} from 'crypto';
import {
  definitionRefusal,
  parseSecretKeys,
  SecretCipher,
  SecretDecryptionError,
  SecretKeyConfigError,
} from '../../security';

const key = (id: string) => ({id, key: randomBytes(32).toString('base64')});

describe('Secret cipher (unit)', () => {
  const k1 = key('2025-01');
  const k2 = key('2026-01');

  it('encrypts with AES-256-GCM under a key id, never showing the plaintext', () => {
    const cipher = new SecretCipher([k1]);
    const secret = 'a'.repeat(64);
    const stored = cipher.encrypt(secret);
    expect(stored).to.match(/^enc:v1:2025-01:[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(stored).to.not.containEql(secret);
    expect(stored).to.not.equal(cipher.encrypt(secret)); // a fresh IV each time
    expect(cipher.decrypt(stored)).to.equal(secret);
    expect(stored.length).to.be.below(512); // fits the api_secret column
  });

  it('rotates: the first key encrypts, every listed key decrypts', () => {
    const old = new SecretCipher([k1]).encrypt('old secret');
    const rotated = new SecretCipher([k2, k1]);
    expect(rotated.decrypt(old)).to.equal('old secret');
    expect(rotated.isCurrent(old)).to.be.false();
    const fresh = rotated.encrypt('new secret');
    expect(rotated.isCurrent(fresh)).to.be.true();
    expect(fresh.startsWith('enc:v1:2026-01:')).to.be.true();
    // Once every row is re-encrypted the old key can go.
    expect(new SecretCipher([k2]).decrypt(fresh)).to.equal('new secret');
    expect(() => new SecretCipher([k2]).decrypt(old)).to.throw(
      /key "2025-01", which is not configured/,
    );
  });

  it('reads a plaintext value of an older version as it is', () => {
    const cipher = new SecretCipher([k1]);
    expect(cipher.decrypt('f'.repeat(64))).to.equal('f'.repeat(64));
    expect(cipher.isCurrent('f'.repeat(64))).to.be.false();
  });

  it('detects tampering and a wrong key', () => {
    const cipher = new SecretCipher([k1]);
    const stored = cipher.encrypt('secret');
    const at = stored.length - 3;
    const flipped = `${stored.slice(0, at)}${stored[at] === 'A' ? 'B' : 'A'}${stored.slice(at + 1)}`;
    expect(() => cipher.decrypt(flipped)).to.throw(/altered/);
    const impostor = new SecretCipher([{id: '2025-01', key: k2.key}]);
    expect(() => impostor.decrypt(stored)).to.throw(
      /altered or the key is wrong/,
    );
    // The key id is authenticated too: a value cannot be moved to another key.
    const moved = stored.replace('enc:v1:2025-01:', 'enc:v1:2026-01:');
    expect(() => new SecretCipher([k2, k1]).decrypt(moved)).to.throw(
      SecretDecryptionError,
    );
  });

  it('refuses a configuration that cannot encrypt', () => {
    expect(() => new SecretCipher([])).to.throw(SecretKeyConfigError);
    expect(() => new SecretCipher([{id: 'k', key: 'c2hvcnQ='}])).to.throw(
      /32 bytes/,
    );
    expect(() => new SecretCipher([k1, k1])).to.throw(/twice/);
    expect(() => new SecretCipher([{id: 'a b', key: k1.key}])).to.throw(/id/);
  });

  it('reads keys from an environment variable, newest first', () => {
    expect(parseSecretKeys(`new:${k2.key}, old:${k1.key}`)).to.eql([
      {id: 'new', key: k2.key},
      {id: 'old', key: k1.key},
    ]);
    expect(parseSecretKeys('')).to.eql([]);
    expect(() => parseSecretKeys('nocolon')).to.throw(/id:base64key/);
  });
});

describe('Engine refusal of a definition (unit)', () => {
  it('is the caller’s mistake for a parse failure or a 4xx, with the engine’s reason', () => {
    expect(
      definitionRefusal({
        status: 500,
        engineMessage:
          "ENGINE-09003 Could not parse 'x.bpmn'. Content is not allowed in prolog.",
      }),
    ).to.match(/Content is not allowed in prolog/);
    expect(
      definitionRefusal({
        status: 400,
        engineMessage: 'ENGINE-09005 Could not parse BPMN process.',
      }),
    ).to.match(/ENGINE-09005/);
  });

  it('is not for engine failures of its own or anything else', () => {
    expect(
      definitionRefusal({status: 500, engineMessage: 'database is down'}),
    ).to.be.undefined();
    expect(
      definitionRefusal({status: 503, engineMessage: 'engine not reachable'}),
    ).to.be.undefined();
    expect(definitionRefusal(new Error('Could not parse'))).to.be.undefined();
    expect(definitionRefusal(undefined)).to.be.undefined();
  });
});
