import {
  AuthenticationComponent,
  registerAuthenticationStrategy,
} from '@loopback/authentication';
import {
  AuthorizationBindings,
  AuthorizationComponent,
  AuthorizationDecision,
  AuthorizationTags,
} from '@loopback/authorization';
import {
  Binding,
  BindingKey,
  BindingScope,
  Component,
  Constructor,
  ControllerClass,
  CoreBindings,
  CoreTags,
  createBindingFromClass,
  DEFAULT_ORDERED_GROUPS,
  inject,
  LifeCycleObserverOptions,
  ServiceOrProviderClass,
} from '@loopback/core';
import {Class, Model, Repository} from '@loopback/repository';
import {
  LogErrorProvider,
  MiddlewareSequence,
  RestApplication,
  RestBindings,
  RestMiddlewareGroups,
} from '@loopback/rest';
import {Registry} from 'prom-client';
import {
  BearerJwtStrategy,
  BearerSecuritySpecEnhancer,
  JwtConfigFromEnvProvider,
  PermissionAuthorizerProvider,
  TaskAuthBindings,
} from './auth';
import {
  EventController,
  OutboxController,
  TaskController,
  UserTaskController,
  WorkflowController,
} from './controllers';
import {CamundaCommandWorker, CamundaService} from './engines/camunda';
import {TaskServiceBindings} from './keys';
import {
  LEAN_ROUTES_GROUP,
  LeanRoutesProvider,
  leanRouteMethod,
} from './rest/lean-routes.middleware';
import {TaskTrieRouter} from './rest/trie-router';
import {
  CommandWorkersObserver,
  IncomingEventsObserver,
  TaskLifeCycleBindings,
} from './lifecycle-observers';
import {
  GracefulShutdownObserver,
  HealthController,
  MetricsController,
  MetricsServer,
  ReadinessService,
  RequestObservabilityProvider,
  ServiceState,
  SHUTDOWN_OBSERVER_GROUP,
  TaskLogErrorProvider,
  TaskLoggerProvider,
  TaskMetrics,
  TaskObservabilityBindings,
  TaskObservabilityConfig,
} from './observability';
import {WorkflowManagerProvider} from './providers';
import {
  Event,
  EventWorkflow,
  Task,
  TaskWorkflow,
  UserTask,
  Workflow,
  WorkflowVersion,
} from './models';
import {
  defineEventRepository,
  defineEventWorkflowRepository,
  defineTaskRepository,
  defineTaskWorkflowRepository,
  defineUserTaskRepository,
  defineWorkflowRepository,
  defineWorkflowVersionRepository,
  EventRepository,
  EventWorkflowRepository,
  repositoryOn,
  SEQUELIZE_REPOSITORIES,
  TaskRepository,
  TaskWorkflowRepository,
  UserTaskRepository,
  WorkflowRepository,
  WorkflowVersionRepository,
} from './repositories';
import {
  CommandExecutor,
  CommandLedger,
  EventOutbox,
  EventProcessorService,
  TaskMaintenanceService,
  UserTaskService,
  WorkflowInputValidator,
  WorkflowService,
} from './services';
import {OutboxRelay} from './services/outbox-relay.service';
import {
  CommandRunStoreProvider,
  EventReceiptStoreProvider,
  OutboxStoreProvider,
  TaskSqlBindings,
  TaskStartStoreProvider,
  TaskTransactionsProvider,
  WorkflowTransactionsProvider,
} from './sql';
import {TaskSecurityComponent} from './security';
import {DEFAULT_SYSTEM_USER, TaskServiceConfig} from './types';

/**
 * The task service: its models and repositories, the `/tasks`, `/events`
 * and `/workflows` routes, event processing, the outbox and its relay, and
 * the engine ports with Camunda as their default. The host binds the
 * datasources, the connectors, the engine config and the commands.
 */
export class TaskServiceComponent implements Component {
  controllers: ControllerClass[] = [
    TaskController,
    UserTaskController,
    EventController,
    OutboxController,
    WorkflowController,
    HealthController,
  ];
  models: Class<Model>[] = [
    Task,
    UserTask,
    Event,
    EventWorkflow,
    TaskWorkflow,
    Workflow,
    WorkflowVersion,
  ];
  repositories: Class<Repository<Model>>[] = [
    TaskRepository,
    UserTaskRepository,
    EventRepository,
    EventWorkflowRepository,
    TaskWorkflowRepository,
    WorkflowRepository,
    WorkflowVersionRepository,
  ];
  services: ServiceOrProviderClass[] = [
    CamundaService,
    CommandExecutor,
    CommandLedger,
    EventOutbox,
    ReadinessService,
    TaskMaintenanceService,
    WorkflowInputValidator,
    WorkflowService,
  ];
  bindings: Binding[] = [
    createBindingFromClass(BearerSecuritySpecEnhancer),
    leanRouteMethod(TaskController, 'find'),
    leanRouteMethod(EventController, 'find'),
    leanRouteMethod(UserTaskController, 'find'),
    createBindingFromClass(OutboxRelay, {type: 'service'}).tag(
      CoreTags.LIFE_CYCLE_OBSERVER,
    ),
  ];
  components: Constructor<Component>[] = [TaskSecurityComponent];

  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE)
    private readonly app: RestApplication,
    @inject(TaskServiceBindings.CONFIG, {optional: true})
    private readonly config: TaskServiceConfig = {useCustomSequence: false},
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    private readonly observability: TaskObservabilityConfig = {},
  ) {
    if (config.useSequelize) {
      // The same repositories, built on Sequelize, under the same keys.
      this.repositories = [
        defineTaskRepository,
        defineUserTaskRepository,
        defineEventRepository,
        defineEventWorkflowRepository,
        defineTaskWorkflowRepository,
        defineWorkflowRepository,
        defineWorkflowVersionRepository,
      ].map(define =>
        repositoryOn<Class<Repository<Model>>>(SEQUELIZE_REPOSITORIES, define),
      );
    }
    this.bindDefault(TaskServiceBindings.SYSTEM_USER, b =>
      b.to(DEFAULT_SYSTEM_USER),
    );
    this.bindDefault(TaskServiceBindings.EVENT_FILTER, b => b.to(() => true));
    this.bindDefault(TaskServiceBindings.EVENT_PROCESSOR, b =>
      b.toClass(EventProcessorService),
    );
    this.bindDefault(TaskServiceBindings.SUB_TASK_SERVICE, b =>
      b.toClass(UserTaskService),
    );
    this.bindDefault(TaskServiceBindings.COMMANDS, b => b.to([]));
    // CUSTOM_BPMN_RUNNER when bound (looked up when the engine is used),
    // else Camunda.
    this.bindDefault(TaskServiceBindings.WORKFLOW_MANAGER, b =>
      b.toProvider(WorkflowManagerProvider),
    );
    this.bindDefault(TaskServiceBindings.COMMAND_RUNNER, b =>
      b.toClass(CamundaCommandWorker).inScope(BindingScope.SINGLETON),
    );
    // The SQL of the service, for the dialect of each datasource.
    for (const [key, provider] of [
      [TaskSqlBindings.TASK_TRANSACTIONS, TaskTransactionsProvider],
      [TaskSqlBindings.WORKFLOW_TRANSACTIONS, WorkflowTransactionsProvider],
      [TaskSqlBindings.OUTBOX_STORE, OutboxStoreProvider],
      [TaskSqlBindings.COMMAND_RUN_STORE, CommandRunStoreProvider],
      [TaskSqlBindings.EVENT_RECEIPT_STORE, EventReceiptStoreProvider],
      [TaskSqlBindings.TASK_START_STORE, TaskStartStoreProvider],
    ] as const) {
      this.bindDefault<unknown>(key, b =>
        b.toProvider(provider).inScope(BindingScope.SINGLETON),
      );
    }
    this.bindDefault(TaskAuthBindings.JWT_CONFIG, b =>
      b.toProvider(JwtConfigFromEnvProvider),
    );
    this.app.lifeCycleObserver(IncomingEventsObserver, {
      key: TaskLifeCycleBindings.INCOMING_EVENTS.key,
    });
    this.app.lifeCycleObserver(CommandWorkersObserver, {
      key: TaskLifeCycleBindings.COMMAND_WORKERS.key,
    });
    this.setupObservability();
    this.bindDefault(RestBindings.ROUTER, b => b.toClass(TaskTrieRouter));

    // Our strategy is registered either way, so a custom sequence can use it.
    registerAuthenticationStrategy(app, BearerJwtStrategy);
    if (!this.config.useCustomSequence) this.setupAuth();
  }

  /**
   * Logging, metrics, `/health`, `/ready`, `/metrics` and the graceful
   * shutdown. `/health` and `/ready` carry no authentication metadata, so
   * they answer without a token; `/metrics` has its own protection.
   */
  private setupObservability() {
    this.bindDefault(TaskObservabilityBindings.LOGGER, b =>
      b.toProvider(TaskLoggerProvider).inScope(BindingScope.SINGLETON),
    );
    this.bindDefault(TaskObservabilityBindings.METRICS_REGISTRY, b =>
      b.to(new Registry()),
    );
    this.bindDefault(TaskObservabilityBindings.METRICS, b =>
      b.toClass(TaskMetrics).inScope(BindingScope.SINGLETON),
    );
    this.bindDefault(TaskObservabilityBindings.SERVICE_STATE, b =>
      b.toClass(ServiceState).inScope(BindingScope.SINGLETON),
    );
    // Errors of the REST sequence through the logger, unless the host
    // replaced LoopBack's default.
    const logError = this.app.getBinding(
      RestBindings.SequenceActions.LOG_ERROR,
      {optional: true},
    );
    if (
      !logError ||
      (logError.providerConstructor as unknown) === LogErrorProvider
    ) {
      this.app
        .bind(RestBindings.SequenceActions.LOG_ERROR)
        .toProvider(TaskLogErrorProvider);
    }
    // Before every other middleware, so it times and tags the whole request.
    this.app.middleware(RequestObservabilityProvider, {
      key: 'middleware.TaskRequestObservability',
      group: 'taskRequestObservability',
      downstreamGroups: [RestMiddlewareGroups.SEND_RESPONSE],
    });
    const metrics = this.observability.metrics ?? {};
    if (metrics.enabled !== false) {
      if (metrics.port === undefined) this.app.controller(MetricsController);
      else this.app.lifeCycleObserver(MetricsServer);
    }
    this.app.add(
      createBindingFromClass(GracefulShutdownObserver, {
        key: TaskObservabilityBindings.SHUTDOWN_OBSERVER,
      }).tag(CoreTags.LIFE_CYCLE_OBSERVER, {
        [CoreTags.LIFE_CYCLE_OBSERVER_GROUP]: SHUTDOWN_OBSERVER_GROUP,
      }),
    );
    this.orderShutdownAfterServers();
  }

  /**
   * Puts the graceful shutdown's group after `server` in the life-cycle
   * order, so it starts last (ready only once all has started) and stops
   * first (before the servers stop taking requests).
   */
  private orderShutdownAfterServers() {
    const key = CoreBindings.LIFE_CYCLE_OBSERVER_OPTIONS;
    const options: LifeCycleObserverOptions = this.app.isBound(key.key)
      ? this.app.getSync(key)
      : {orderedGroups: [...DEFAULT_ORDERED_GROUPS], parallel: true};
    if (options.orderedGroups.includes(SHUTDOWN_OBSERVER_GROUP)) return;
    this.app.bind(key).to({
      ...options,
      orderedGroups: [...options.orderedGroups, SHUTDOWN_OBSERVER_GROUP],
    });
  }

  /** Authentication as middleware of the default sequence, authorization by permissions. */
  private setupAuth() {
    this.app.sequence(MiddlewareSequence);
    this.app.component(AuthenticationComponent);
    this.app.configure(AuthorizationBindings.COMPONENT).to({
      precedence: AuthorizationDecision.DENY,
      defaultDecision: AuthorizationDecision.DENY,
    });
    this.app.component(AuthorizationComponent);
    this.app
      .bind(TaskAuthBindings.PERMISSION_AUTHORIZER)
      .toProvider(PermissionAuthorizerProvider)
      .tag(AuthorizationTags.AUTHORIZER);
    if (this.config.leanRoutes !== false) {
      // After CORS, the API spec and the host's middleware; before routing.
      this.app.middleware(LeanRoutesProvider, {
        key: 'middleware.TaskLeanRoutes',
        group: LEAN_ROUTES_GROUP,
        upstreamGroups: [
          RestMiddlewareGroups.CORS,
          RestMiddlewareGroups.API_SPEC,
          RestMiddlewareGroups.MIDDLEWARE,
        ],
        downstreamGroups: [RestMiddlewareGroups.FIND_ROUTE],
      });
    }
  }

  /** Binds `key` unless the host bound it before mounting the component. */
  private bindDefault<T>(
    key: BindingKey<T>,
    configure: (binding: Binding<T>) => void,
  ) {
    if (!this.app.isBound(key.key)) configure(this.app.bind(key));
  }
}
