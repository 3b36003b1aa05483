import {BindingScope, injectable} from '@loopback/core';
import {repository} from '@loopback/repository';
import {createHash, randomBytes, timingSafeEqual} from 'crypto';
import {TaskServiceError} from '../../../errors';
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
  ) {}

  /** The client app, or refused (`unauthenticated`): "Invalid API key or secret". */
  async authenticate(apiKey?: string, apiSecret?: string): Promise<ClientApp> {
    if (!apiKey || !apiSecret) {
      throw new TaskServiceError('unauthenticated', INVALID_API_CREDENTIALS);
    }
    const app = await this.clientApps.findOne({where: {apiKey}});
    const matches = sameSecret(app?.apiSecret ?? DUMMY_SECRET, apiSecret);
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
