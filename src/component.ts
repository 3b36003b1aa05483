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
  BindingScope,
  Component,
  CoreBindings,
  CoreTags,
  createBindingFromClass,
  inject,
  ServiceOrProviderClass,
  LifeCycleObserver,
  Constructor,
} from '@loopback/core';
import {Class, Model, Repository} from '@loopback/repository';
import {MiddlewareSequence, RestApplication} from '@loopback/rest';
import {
  BearerJwtStrategy,
  BearerSecuritySpecEnhancer,
  JwtConfigFromEnvProvider,
  PermissionAuthorizerProvider,
  TaskAuthBindings,
} from './auth';
import {
  EventController,
  TaskController,
  UserTaskController,
  WorkflowController,
} from './controllers';
import {CamundaService} from './engines/camunda';
import {TaskServiceBindings} from './keys';
import {
  CommandWorkersObserver,
  IncomingEventsObserver,
} from './lifecycle-observers';
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
  EventRepository,
  EventWorkflowRepository,
  TaskRepository,
  TaskWorkflowRepository,
  UserTaskRepository,
  WorkflowRepository,
  WorkflowVersionRepository,
} from './repositories';
import {
  CommandLedger,
  EventOutbox,
  EventProcessorService,
  WorkflowInputValidator,
  TaskMaintenanceService,
  UserTaskService,
  WorkflowRunner,
} from './services';
import {TaskSecurityComponent} from './security';
import {DEFAULT_SYSTEM_USER, TaskServiceConfig} from './types';

/**
 * The task service: its models and repositories, the `/tasks`, `/events`
 * and `/workflows` routes, event processing and the outbox relay. The host
 * binds the datasources, the connectors, the engine config and the commands.
 */
export class TaskServiceComponent implements Component {
  controllers = [
    TaskController,
    UserTaskController,
    EventController,
    WorkflowController,
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
    TaskMaintenanceService,
    WorkflowRunner,
    WorkflowInputValidator,
    CommandLedger,
  ];
  lifeCycleObservers: Constructor<LifeCycleObserver>[] = [];
  components: Constructor<Component>[] = [TaskSecurityComponent];
  bindings: Binding[] = [];

  constructor(
    @inject(CoreBindings.APPLICATION_INSTANCE)
    private readonly app: RestApplication,
    @inject(TaskServiceBindings.CONFIG, {optional: true})
    private readonly config: TaskServiceConfig = {useCustomSequence: false},
  ) {
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
    // A custom engine bound at CUSTOM_BPMN_RUNNER (the original's key) is
    // the workflow manager; otherwise Camunda.
    this.bindDefault(TaskServiceBindings.WORKFLOW_MANAGER, b =>
      app.isBound(TaskServiceBindings.CUSTOM_BPMN_RUNNER.key)
        ? b.toAlias(TaskServiceBindings.CUSTOM_BPMN_RUNNER)
        : b.toClass(CamundaService).inScope(BindingScope.SINGLETON),
    );
    this.bindDefault(TaskAuthBindings.JWT_CONFIG, b =>
      b.toProvider(JwtConfigFromEnvProvider),
    );
    this.bindings.push(
      createBindingFromClass(BearerSecuritySpecEnhancer),
      // One outbox per app: the service that writes events is the relay too.
      createBindingFromClass(EventOutbox, {type: 'service'}).tag(
        CoreTags.LIFE_CYCLE_OBSERVER,
      ),
    );
    this.app.lifeCycleObserver(IncomingEventsObserver);
    this.app.lifeCycleObserver(CommandWorkersObserver);

    // Our strategy is registered either way, so a custom sequence can use it.
    registerAuthenticationStrategy(app, BearerJwtStrategy);
    if (!this.config.useCustomSequence) this.setupAuth();
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
      .bind('authorizationProviders.task-service-permissions')
      .toProvider(PermissionAuthorizerProvider)
      .tag(AuthorizationTags.AUTHORIZER);
  }

  private bindDefault<T>(
    key: {key: string},
    configure: (binding: Binding<T>) => void,
  ) {
    if (!this.app.isBound(key.key)) configure(this.app.bind<T>(key.key));
  }
}
