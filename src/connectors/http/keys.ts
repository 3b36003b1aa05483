import {BindingKey} from '@loopback/core';
import type {HttpStreamService} from './services/http-stream.service';
import type {WebhookDeliveryWorker} from './services/webhook-delivery.worker';
import {TaskHttpConfig} from './types';

const PREFIX = 'sf.task.http';

export namespace TaskHttpBindings {
  /** `{secretKeys, allowPrivateUrls?, delivery?: {...}}`; secretKeys is required. */
  export const CONFIG = BindingKey.create<TaskHttpConfig>(`${PREFIX}.config`);
  /** The one stream service behind both connector bindings and `/events/trigger`. */
  export const STREAM_SERVICE = BindingKey.create<HttpStreamService>(
    `${PREFIX}.stream`,
  );
  /** The background webhook delivery worker (a life-cycle observer). */
  export const DELIVERY_WORKER = BindingKey.create<WebhookDeliveryWorker>(
    `${PREFIX}.delivery.worker`,
  );
}
