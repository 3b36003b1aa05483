import {Model, model, property} from '@loopback/repository';

// The request bodies the original exported as models.

/** `POST /client-apps`. */
@model()
export class ClientAppDTO extends Model {
  @property({type: 'string', required: true})
  clientName: string;

  constructor(data?: Partial<ClientAppDTO>) {
    super(data);
  }
}

/** `POST /webhooks/subscribe`. */
@model()
export class SubscriberDTO extends Model {
  @property({type: 'string', required: true})
  url: string;

  @property({type: 'string', required: true})
  key: string;

  @property({type: 'string', id: true, generated: true})
  id?: string;

  constructor(data?: Partial<SubscriberDTO>) {
    super(data);
  }
}

/** A task key with the payload for its workflow. */
@model()
export class TaskDto extends Model {
  @property({type: 'string', required: true})
  taskKey: string;

  @property({type: 'object'})
  payload?: object;

  @property({type: 'string', id: true, generated: true})
  id?: string;

  constructor(data?: Partial<TaskDto>) {
    super(data);
  }
}
