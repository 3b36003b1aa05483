import {BindingKey} from '@loopback/core';
import {WebhookDeliveryStore} from './stores/webhook-delivery.store';
import {DeliveryWorker, HttpEventStream, TaskHttpConfig} from './types';

const PREFIX = 'sf.task.http';

/** Binding keys of `TaskHttpComponent`. */
export namespace TaskHttpBindings {
  /** `{secretKeys, allowPrivateUrls?, delivery?: {...}}`; secretKeys is required. */
  export const CONFIG = BindingKey.create<TaskHttpConfig>(`${PREFIX}.config`);
  /** The one stream service behind both connector bindings and `/events/trigger`. */
  export const STREAM_SERVICE = BindingKey.create<HttpEventStream>(
    `${PREFIX}.stream`,
  );
  /** The background webhook delivery worker (a life-cycle observer). */
  export const DELIVERY_WORKER = BindingKey.create<DeliveryWorker>(
    `${PREFIX}.delivery.worker`,
  );
  /** The SQL of durable webhook delivery, chosen for the task datasource's dialect. */
  export const DELIVERY_STORE = BindingKey.create<WebhookDeliveryStore>(
    `${PREFIX}.delivery.store`,
  );
}
