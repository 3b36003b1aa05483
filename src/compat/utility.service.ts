import {BindingScope, injectable} from '@loopback/core';
import {randomBytes, randomUUID} from 'crypto';

/** The original's credential generator for a client app. */
@injectable({scope: BindingScope.TRANSIENT})
export class UtilityService {
  /** A key that names the client and a random secret, as `POST /client-apps` makes them. */
  generateApiKeyAndSecret(clientApp: {clientName: string}): {
    apiKey: string;
    apiSecret: string;
  } {
    return {
      apiKey: `${clientApp.clientName}-${randomUUID()}`,
      apiSecret: randomBytes(32).toString('hex'),
    };
  }
}
