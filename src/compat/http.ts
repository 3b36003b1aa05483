import {BindingScope, injectable, service} from '@loopback/core';
import {AnyObject, repository} from '@loopback/repository';
import {ClientAppRepository} from '../connectors/http/repositories';
import {ClientAppAuthService, signWebhook} from '../connectors/http/services';
import {TaskServiceError} from '../errors';

// Names of the original's `<pkg>/http` that have no other home here.

export {WebhookController as WebhookSubscriptionController} from '../connectors/http/controllers';

/** The original's client-app credential checks, on `ClientAppAuthService`. */
@injectable({scope: BindingScope.TRANSIENT})
export class ApiKeyService {
  constructor(
    @service(ClientAppAuthService) private readonly auth: ClientAppAuthService,
    @repository(ClientAppRepository)
    private readonly clientApps: ClientAppRepository,
  ) {}

  /** Whether the key and secret belong to one client app. */
  async verify(apiKey: string, apiSecret: string): Promise<boolean> {
    try {
      await this.auth.authenticate(apiKey, apiSecret);
      return true;
    } catch (err) {
      if (err instanceof TaskServiceError && err.kind === 'unauthenticated') {
        return false;
      }
      throw err;
    }
  }

  /**
   * `x-task-signature` of `event` at `timestamp`, signed with the secret of
   * the client app whose key the event carries in `apiKey` (the original's
   * rule; the service itself signs each delivery with its subscriber's
   * secret).
   */
  async generateSignature(
    event: AnyObject,
    timestamp: number,
  ): Promise<string> {
    const app =
      typeof event.apiKey === 'string'
        ? await this.clientApps.findOne({where: {apiKey: event.apiKey}})
        : null;
    if (!app) throw new TaskServiceError('unauthenticated', 'Invalid API key');
    return signWebhook(app.apiSecret, JSON.stringify(event), timestamp);
  }
}
