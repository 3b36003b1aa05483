import {createCipheriv, createDecipheriv, randomBytes} from 'crypto';

/** One encryption key: an id stored beside every value it encrypts, and 32 random bytes. */
export interface SecretKey {
  /** Letters, digits, `.` and `-`, at most 32; e.g. `2026-01`. */
  id: string;
  /** 32 bytes, base64 (or base64url) encoded: `openssl rand -base64 32`. */
  key: string;
}

/** A configuration that cannot encrypt (no key, a malformed key, a repeated id). */
export class SecretKeyConfigError extends Error {}

/** A stored value that cannot be decrypted (unknown key id, tampered, malformed). */
export class SecretDecryptionError extends Error {}

const PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9.-]{1,32}$/;
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;

/**
 * Encrypts secrets at rest with AES-256-GCM (authenticated: a changed byte
 * fails to decrypt). A stored value reads `enc:v1:<key id>:<iv>.<tag>.<data>`
 * (base64url), so keys can rotate: the first key encrypts, every listed key
 * decrypts. A value without the prefix is an older plaintext row and reads
 * as it is until it is re-encrypted.
 */
export class SecretCipher {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  constructor(keys: readonly SecretKey[]) {
    if (!keys.length) {
      throw new SecretKeyConfigError(
        'No secret encryption key is configured: give at least one {id, key} (key: 32 random bytes, base64).',
      );
    }
    for (const {id, key} of keys) {
      if (!KEY_ID.test(id)) {
        throw new SecretKeyConfigError(
          `Secret key id "${id}" must be 1 to 32 letters, digits, "." or "-".`,
        );
      }
      if (this.keys.has(id)) {
        throw new SecretKeyConfigError(
          `Secret key id "${id}" is listed twice.`,
        );
      }
      const bytes = Buffer.from(key ?? '', 'base64');
      if (bytes.length !== 32) {
        throw new SecretKeyConfigError(
          `Secret key "${id}" must be 32 bytes, base64 encoded (it decodes to ${bytes.length}).`,
        );
      }
      this.keys.set(id, bytes);
    }
    this.currentId = keys[0].id;
  }

  /** The id of the key new values are encrypted with. */
  get currentKeyId(): string {
    return this.currentId;
  }

  /** Encrypts with the current key. */
  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const header = `${PREFIX}${this.currentId}:`;
    const cipher = createCipheriv(
      ALGORITHM,
      this.keys.get(this.currentId)!,
      iv,
    );
    // The header is authenticated too: a value cannot be moved to another key id.
    cipher.setAAD(Buffer.from(header));
    const data = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
    ]);
    return `${header}${[iv, cipher.getAuthTag(), data].map(b => b.toString('base64url')).join('.')}`;
  }

  /** The plaintext of a stored value; a value that was never encrypted is returned as it is. */
  decrypt(stored: string): string {
    if (!SecretCipher.isEncrypted(stored)) return stored;
    const rest = stored.slice(PREFIX.length);
    const colon = rest.indexOf(':');
    const id = rest.slice(0, colon);
    const key = this.keys.get(id);
    if (colon < 0 || !key) {
      throw new SecretDecryptionError(
        `A secret is encrypted with key "${id}", which is not configured; add it to the keys (after the current one).`,
      );
    }
    const parts = rest.slice(colon + 1).split('.');
    if (parts.length !== 3) {
      throw new SecretDecryptionError('A stored secret is malformed.');
    }
    const [iv, tag, data] = parts.map(p => Buffer.from(p, 'base64url'));
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv);
      decipher.setAAD(Buffer.from(`${PREFIX}${id}:`));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretDecryptionError(
        `A stored secret does not decrypt with key "${id}": it was altered or the key is wrong.`,
      );
    }
  }

  /** True when `stored` is encrypted with the current key (nothing to re-encrypt). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${PREFIX}${this.currentId}:`);
  }

  /** True when `stored` is an encrypted value (of any key). */
  static isEncrypted(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  /** The prefix of values encrypted with the current key (for a LIKE). */
  get currentPrefix(): string {
    return `${PREFIX}${this.currentId}:`;
  }
}

/** Reads `id:base64key,id:base64key` (newest first), as an environment variable holds them. */
export function parseSecretKeys(text: string | undefined): SecretKey[] {
  return (text ?? '')
    .split(',')
    .map(entry => entry.trim())
    .filter(Boolean)
    .map(entry => {
      const colon = entry.indexOf(':');
      if (colon < 1) {
        throw new SecretKeyConfigError(
          'Secret keys are written "id:base64key", comma separated, newest first.',
        );
      }
      return {id: entry.slice(0, colon), key: entry.slice(colon + 1)};
    });
}
