import {
  Binding,
  BindingScope,
  Component,
  Constructor,
  ControllerClass,
  CoreTags,
  createBindingFromClass,
  inject,
  LifeCycleObserver,
} from '@loopback/core';
import {Class, Model, Repository} from '@loopback/repository';
import {TaskServiceBindings} from '../../keys';
import {leanRouteMethod} from '../../rest/lean-routes.middleware';
import {TaskObservabilityTags} from '../../observability/keys';
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
import {
  ClientApp,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookSubscription,
} from './models';
import {repositoryOn, SEQUELIZE_REPOSITORIES} from '../../repositories';
import {TaskServiceConfig} from '../../types';
import {
  ClientAppRepository,
  defineClientAppRepository,
  defineWebhookDeliveryAttemptRepository,
  defineWebhookDeliveryRepository,
  defineWebhookSubscriptionRepository,
  WebhookDeliveryAttemptRepository,
  WebhookDeliveryRepository,
  WebhookSubscriptionRepository,
} from './repositories';
import {
  ClientAppAuthService,
  HttpStreamService,
  WebhookDeliveryWorker,
} from './services';
import {WebhookDeliveryStoreProvider} from './stores';

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
    Binding.bind(TaskHttpBindings.DELIVERY_STORE)
      .toProvider(WebhookDeliveryStoreProvider)
      .inScope(BindingScope.SINGLETON),
    createBindingFromClass(ClientAppAuthService, {type: 'service'}),
    createBindingFromClass(HttpStreamService, {
      key: TaskHttpBindings.STREAM_SERVICE,
    }),
    createBindingFromClass(WebhookDeliveryWorker, {
      key: TaskHttpBindings.DELIVERY_WORKER,
    }).tag(
      CoreTags.LIFE_CYCLE_OBSERVER,
      // Drained by the graceful shutdown after the commands.
      TaskObservabilityTags.BACKGROUND_WORKER,
    ),
    leanRouteMethod(EventTriggerController, 'trigger'),
    Binding.bind(TaskServiceBindings.INCOMING_CONNECTOR).toAlias(
      TaskHttpBindings.STREAM_SERVICE,
    ),
    Binding.bind(TaskServiceBindings.OUTGOING_CONNECTOR).toAlias(
      TaskHttpBindings.STREAM_SERVICE,
    ),
  ];

  constructor(
    @inject(TaskServiceBindings.CONFIG, {optional: true})
    config?: TaskServiceConfig,
  ) {
    if (config?.useSequelize) {
      // The same repositories, built on Sequelize, under the same keys.
      this.repositories = [
        defineClientAppRepository,
        defineWebhookSubscriptionRepository,
        defineWebhookDeliveryRepository,
        defineWebhookDeliveryAttemptRepository,
      ].map(define =>
        repositoryOn<Class<Repository<Model>>>(SEQUELIZE_REPOSITORIES, define),
      );
    }
  }
}
