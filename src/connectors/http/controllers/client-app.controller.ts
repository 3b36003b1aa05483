import {inject, intercept} from '@loopback/core';
import {repository} from '@loopback/repository';
import {post, requestBody, response, SchemaObject} from '@loopback/rest';
import {randomBytes, randomUUID} from 'crypto';
import {requires} from '../../../auth';
import {asHttpErrors} from '../../../controllers/http-errors';
import {SecretCipher, TaskSecurityBindings} from '../../../security';
import {ClientAppRepository} from '../repositories';

export interface NewClientAppRequest {
  clientName: string;
}

/** The only response that ever carries `apiSecret`. */
export interface NewClientAppResponse {
  name: string;
  apiKey: string;
  apiSecret: string;
}

const NEW_CLIENT_APP_SCHEMA: SchemaObject = {
  title: 'NewClientApp',
  type: 'object',
  required: ['clientName'],
  additionalProperties: false,
  properties: {clientName: {type: 'string', minLength: 1, maxLength: 255}},
};

const CLIENT_APP_CREDENTIALS_SCHEMA: SchemaObject = {
  title: 'ClientAppCredentials',
  type: 'object',
  properties: {
    name: {type: 'string'},
    apiKey: {type: 'string'},
    apiSecret: {
      type: 'string',
      description: 'Shown only in this response; store it now.',
    },
  },
};

/** Bytes of randomness in an api secret (64 hex characters). */
const SECRET_BYTES = 32;

@intercept(asHttpErrors)
export class ClientAppController {
  constructor(
    @repository(ClientAppRepository)
    private readonly clientApps: ClientAppRepository,
    @inject(TaskSecurityBindings.CLIENT_SECRET_CIPHER)
    private readonly cipher: SecretCipher,
  ) {}

  @requires('CreateApiKey')
  @post('/client-apps')
  @response(200, {
    description: 'The new client app and its credentials',
    content: {'application/json': {schema: CLIENT_APP_CREDENTIALS_SCHEMA}},
  })
  async create(
    @requestBody({
      required: true,
      content: {'application/json': {schema: NEW_CLIENT_APP_SCHEMA}},
    })
    body: NewClientAppRequest,
  ): Promise<NewClientAppResponse> {
    const apiSecret = randomBytes(SECRET_BYTES).toString('hex');
    // Stored encrypted; a live app of the same name is a 409 (unique index).
    const created = await this.clientApps.create({
      name: body.clientName,
      apiKey: `${body.clientName}-${randomUUID()}`,
      apiSecret: this.cipher.encrypt(apiSecret),
    });
    // This response is the one place the secret is shown.
    return {name: created.name, apiKey: created.apiKey, apiSecret};
  }

  /** The original's path. */
  @requires('CreateApiKey')
  @post('/client-app')
  @response(200, {
    description: 'The new client app and its credentials',
    content: {'application/json': {schema: CLIENT_APP_CREDENTIALS_SCHEMA}},
  })
  createAlias(
    @requestBody({
      required: true,
      content: {'application/json': {schema: NEW_CLIENT_APP_SCHEMA}},
    })
    body: NewClientAppRequest,
  ): Promise<NewClientAppResponse> {
    return this.create(body);
  }
}
