import {BindingScope, inject, injectable} from '@loopback/core';
import {repository} from '@loopback/repository';
import {Request, RestBindings} from '@loopback/rest';
import {createHash, randomBytes, timingSafeEqual} from 'crypto';
import {TaskServiceError} from '../../../errors';
import {
  limitFailures,
  RateLimit,
  SecretCipher,
  TaskSecurityBindings,
} from '../../../security';
import {ClientApp} from '../models';
import {ClientAppRepository} from '../repositories';

export const INVALID_API_CREDENTIALS = 'Invalid API key or secret';

/** Compared when the key is unknown, so both paths cost the same. */
const DUMMY_SECRET = randomBytes(32).toString('hex');

/** Checks the `x-api-key` / `x-api-secret` pair of a client app. */
@injectable({scope: BindingScope.TRANSIENT})
export class ClientAppAuthService {
  constructor(
    @repository(ClientAppRepository)
    private readonly clientApps: ClientAppRepository,
    @inject(TaskSecurityBindings.CLIENT_SECRET_CIPHER)
    private readonly cipher: SecretCipher,
    @inject(TaskSecurityBindings.API_CREDENTIAL_FAILURE_LIMIT, {optional: true})
    private readonly failures?: RateLimit,
    @inject(RestBindings.Http.REQUEST, {optional: true})
    private readonly request?: Request,
  ) {}

  /** The client app, or refused (`unauthenticated`): "Invalid API key or secret" (429 after too many failures). */
  authenticate(apiKey?: string, apiSecret?: string): Promise<ClientApp> {
    return limitFailures(this.failures, this.request, () =>
      this.check(apiKey, apiSecret),
    );
  }

  private async check(apiKey?: string, apiSecret?: string): Promise<ClientApp> {
    if (!apiKey || !apiSecret) {
      throw new TaskServiceError('unauthenticated', INVALID_API_CREDENTIALS);
    }
    const app = await this.clientApps.findOne({where: {apiKey}});
    const stored = app ? this.cipher.decrypt(app.apiSecret) : DUMMY_SECRET;
    const matches = sameSecret(stored, apiSecret);
    if (!app || !matches) {
      throw new TaskServiceError('unauthenticated', INVALID_API_CREDENTIALS);
    }
    return app;
  }
}

/** Constant-time comparison of secrets of any length (through their hashes). */
function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
