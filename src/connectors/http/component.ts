import {
  Binding,
  Component,
  Constructor,
  ControllerClass,
  CoreTags,
  createBindingFromClass,
  LifeCycleObserver,
} from '@loopback/core';
import {Class, Model, Repository} from '@loopback/repository';
import {TaskServiceBindings} from '../../keys';
import {ClientApp, WebhookSubscription} from '../../models';
import {
  ClientAppRepository,
  WebhookSubscriptionRepository,
} from '../../repositories';
import {
  ClientSecretCipherProvider,
  ClientSecretUpgrader,
  TaskSecurityBindings,
  TaskSecurityComponent,
} from '../../security';
import {
  ClientAppController,
  EventTriggerController,
  WebhookController,
} from './controllers';
import {TaskHttpBindings} from './keys';
import {WebhookDelivery, WebhookDeliveryAttempt} from './models';
import {
  WebhookDeliveryAttemptRepository,
  WebhookDeliveryRepository,
} from './repositories';
import {
  ClientAppAuthService,
  HttpStreamService,
  WebhookDeliveryStore,
  WebhookDeliveryWorker,
} from './services';

/**
 * The HTTP connector: `POST /events/trigger` in, signed webhooks out, client
 * apps and subscriptions, and the background webhook delivery worker.
 *
 * It binds one `HttpStreamService` as both `INCOMING_CONNECTOR` and
 * `OUTGOING_CONNECTOR` (two bindings, aliases of `TaskHttpBindings.STREAM_SERVICE`);
 * bind another connector to either key afterwards to replace that side only.
 * Config: `TaskHttpBindings.CONFIG`. Tables: migration set `http`.
 */
export class TaskHttpComponent implements Component {
  controllers: ControllerClass[] = [
    EventTriggerController,
    ClientAppController,
    WebhookController,
  ];
  models: Class<Model>[] = [
    ClientApp,
    WebhookSubscription,
    WebhookDelivery,
    WebhookDeliveryAttempt,
  ];
  repositories: Class<Repository<Model>>[] = [
    ClientAppRepository,
    WebhookSubscriptionRepository,
    WebhookDeliveryRepository,
    WebhookDeliveryAttemptRepository,
  ];
  components: Constructor<Component>[] = [TaskSecurityComponent];
  lifeCycleObservers: Constructor<LifeCycleObserver>[] = [ClientSecretUpgrader];
  bindings: Binding[] = [
    createBindingFromClass(ClientSecretCipherProvider, {
      key: TaskSecurityBindings.CLIENT_SECRET_CIPHER,
    }),
    createBindingFromClass(WebhookDeliveryStore, {
      key: 'services.WebhookDeliveryStore',
    }),
    createBindingFromClass(ClientAppAuthService, {
      key: 'services.ClientAppAuthService',
    }),
    createBindingFromClass(HttpStreamService, {
      key: TaskHttpBindings.STREAM_SERVICE,
    }),
    createBindingFromClass(WebhookDeliveryWorker, {
      key: TaskHttpBindings.DELIVERY_WORKER,
    }).tag(CoreTags.LIFE_CYCLE_OBSERVER),
    Binding.bind(TaskServiceBindings.INCOMING_CONNECTOR).toAlias(
      TaskHttpBindings.STREAM_SERVICE,
    ),
    Binding.bind(TaskServiceBindings.OUTGOING_CONNECTOR).toAlias(
      TaskHttpBindings.STREAM_SERVICE,
    ),
  ];
}
