import {
  BindingScope,
  inject,
  injectable,
  LifeCycleObserver,
  Provider,
} from '@loopback/core';
import {repository} from '@loopback/repository';
import {TaskHttpBindings} from '../connectors/http/keys';
import type {TaskHttpConfig} from '../connectors/http/types';
import {ClientAppRepository} from '../connectors/http/repositories';
import {TaskObservabilityBindings} from '../observability/keys';
import {fallbackLogger} from '../observability/logger';
import type {TaskLogger} from '../observability/types';
import {TaskSecurityBindings} from './keys';
import {
  parseSecretKeys,
  SecretCipher,
  SecretKeyConfigError,
} from './secret-cipher';

/** Where the keys come from when the config names none. */
export const SECRET_KEYS_ENV = 'CLIENT_SECRET_KEYS';

/** The cipher of client-app secrets, from `TaskHttpConfig.secretKeys`. */
@injectable({scope: BindingScope.SINGLETON})
export class ClientSecretCipherProvider implements Provider<SecretCipher> {
  constructor(
    @inject(TaskHttpBindings.CONFIG, {optional: true})
    private readonly config: TaskHttpConfig = {},
  ) {}

  value(): SecretCipher {
    try {
      // An app written for the original binds no such config: the keys may
      // come from the environment instead (`id:base64key,...`).
      return new SecretCipher(
        this.config.secretKeys ?? parseSecretKeys(process.env[SECRET_KEYS_ENV]),
      );
    } catch (err) {
      if (err instanceof SecretKeyConfigError) {
        throw new SecretKeyConfigError(
          `TaskHttpConfig.secretKeys (or ${SECRET_KEYS_ENV}): ${err.message} Client-app secrets are stored encrypted with it.`,
        );
      }
      throw err;
    }
  }
}

/** Rows looked at per query while re-encrypting. */
const BATCH = 100;

/**
 * At start: checks that client secrets can be encrypted (no key configured
 * stops the app), then re-encrypts with the current key every stored secret
 * that is not (plaintext rows of an older version, or rows of a key being
 * rotated out). Each row is rewritten only if it still holds what was read,
 * so instances starting together do not undo each other. A database that is
 * not reachable now is logged, not fatal: secrets are read in any form.
 */
@injectable({scope: BindingScope.SINGLETON})
export class ClientSecretUpgrader implements LifeCycleObserver {
  constructor(
    @inject(TaskSecurityBindings.CLIENT_SECRET_CIPHER)
    private readonly cipher: SecretCipher,
    @repository(ClientAppRepository)
    private readonly clientApps: ClientAppRepository,
    @inject(TaskObservabilityBindings.LOGGER, {optional: true})
    private readonly logger: TaskLogger = fallbackLogger(),
  ) {}

  async start(): Promise<void> {
    try {
      const count = await this.upgrade();
      if (count) {
        this.logger.info(
          {count, keyId: this.cipher.currentKeyId},
          'Client-app secrets re-encrypted with the current key',
        );
      }
    } catch (err) {
      this.logger.error(
        {err},
        'Client-app secrets could not be re-encrypted now; they are read as stored until the next start',
      );
    }
  }

  /** Re-encrypts every row not under the current key (deleted rows too); returns how many. */
  async upgrade(): Promise<number> {
    // A row seen twice was changed by someone else meanwhile: leave it to them.
    const skipped: string[] = [];
    const seen = new Set<string>();
    let count = 0;
    for (;;) {
      const rows = (await this.clientApps.findWithDeleted({
        where: {
          apiSecret: {nlike: `${this.cipher.currentPrefix}%`},
          ...(skipped.length ? {id: {nin: skipped}} : {}),
        },
        fields: {id: true, apiSecret: true},
        limit: BATCH,
      })) as unknown as {id: string; apiSecret: string}[];
      if (!rows.length) return count;
      for (const row of rows) {
        if (seen.has(row.id)) {
          skipped.push(row.id);
          continue;
        }
        seen.add(row.id);
        let plaintext: string;
        try {
          plaintext = this.cipher.decrypt(row.apiSecret);
        } catch (err) {
          this.logger.error(
            {err, clientAppId: row.id},
            'Client-app secret cannot be decrypted with the configured keys',
          );
          skipped.push(row.id);
          continue;
        }
        const result = await this.clientApps.updateAllWithDeleted(
          {apiSecret: this.cipher.encrypt(plaintext)},
          {id: row.id, apiSecret: row.apiSecret},
        );
        count += result.count;
      }
    }
  }
}
