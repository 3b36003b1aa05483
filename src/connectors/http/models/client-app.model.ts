import {model, property} from '@loopback/repository';
import {AuditedEntity, column, serviceTable, uuidId} from '../../../models';

/** A client of the HTTP connector; its secret signs the webhooks it subscribes to. */
@model({
  name: 'client_apps',
  settings: {
    ...serviceTable('client_apps'),
    strict: true,
    hiddenProperties: ['apiSecret'],
  },
})
export class ClientApp extends AuditedEntity {
  @property(uuidId())
  id?: string;

  @property({type: 'string', required: true, ...column('name')})
  name: string;

  @property({
    type: 'string',
    required: true,
    ...column('api_key'),
  })
  apiKey: string;

  @property({
    type: 'string',
    required: true,
    ...column('api_secret'),
  })
  apiSecret: string;

  constructor(data?: Partial<ClientApp>) {
    super(data);
  }
}
