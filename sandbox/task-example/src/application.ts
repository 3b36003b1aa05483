import {BootMixin} from '@loopback/boot';
import {ApplicationConfig} from '@loopback/core';
import {Class, juggler, RepositoryMixin} from '@loopback/repository';
import {RestApplication} from '@loopback/rest';
import {RestExplorerComponent} from '@loopback/rest-explorer';
import {ServiceMixin} from '@loopback/service-proxy';
import {
  CreateTaskCommand,
  EndTaskCommand,
  ExportedWorkflowServiceBindingConfig,
  TaskAuthBindings,
  TaskDbSourceName,
  TaskSecurityBindings,
  TaskLogger,
  TaskObservabilityBindings,
  TaskServiceBindings,
  TaskServiceComponent,
  WorkflowServiceSourceName,
} from 'loopback4-task-service';
import {TaskHttpBindings, TaskHttpComponent} from 'loopback4-task-service/http';
import {
  KafkaEventAdapter,
  KafkaStreamService,
  TaskServiceKafkaModule,
} from 'loopback4-task-service/kafka';
import {ReadDataCommand} from './commands/read-data.command';
import {ExampleConfig} from './config';
import {
  TaskDbDataSource,
  WorkflowCacheDataSource,
} from './sequelize-datasources';

/** The datasource settings of the database in `db`. */
function dataSourceConfig({schema, ...db}: ExampleConfig['db']): object {
  return db.connector === 'mysql'
    ? // The migrations' collation (case-sensitive, 4-byte UTF-8); DATETIME
      // columns hold UTC.
      {...db, collation: 'utf8mb4_bin', timezone: 'Z'}
    : {...db, schema};
}

/** The `SequelizeDataSource` settings of the database in `db`. */
function sequelizeConfig({schema, ...db}: ExampleConfig['db']): object {
  return {
    ...db,
    ...(db.connector === 'postgresql' ? {schema} : {}),
    // @loopback/sequelize hands Oracle's `connectString` to every driver;
    // none of ours knows it (mysql2 warns).
    sequelizeOptions: {dialectOptions: {}},
  };
}

/** A host app that mounts the task service, configured only by its environment. */
export class TaskExampleApplication extends BootMixin(
  ServiceMixin(RepositoryMixin(RestApplication)),
) {
  constructor(
    readonly example: ExampleConfig,
    options: ApplicationConfig = {},
    logger?: TaskLogger,
  ) {
    super({
      ...options,
      rest: {port: example.port, host: example.host, ...options.rest},
    });
    this.projectRoot = __dirname;
    this.component(RestExplorerComponent);

    // One database serves both datasources of the service: juggler
    // datasources, or with USE_SEQUELIZE=true Sequelize ones.
    if (example.useSequelize) {
      for (const DataSource of [TaskDbDataSource, WorkflowCacheDataSource]) {
        const name = DataSource.dataSourceName;
        this.bind(`datasources.config.${name}`).to({
          name,
          ...sequelizeConfig(example.db),
        });
        // What the booter does with a datasource class in src/datasources/.
        this.dataSource(DataSource as unknown as Class<juggler.DataSource>);
      }
    } else {
      for (const name of [TaskDbSourceName, WorkflowServiceSourceName]) {
        this.dataSource(
          new juggler.DataSource({name, ...dataSourceConfig(example.db)}),
          name,
        );
      }
    }
    this.bind(TaskServiceBindings.CONFIG).to({
      useCustomSequence: false,
      useSequelize: example.useSequelize,
    });
    this.bind(TaskAuthBindings.JWT_CONFIG).to({
      secret: example.jwtSecret,
      publicKey: example.jwtPublicKey,
      issuer: example.jwtIssuer,
    });
    this.bind(ExportedWorkflowServiceBindingConfig).to({
      useCustomSequence: false,
      workflowEngineBaseUrl: example.camundaUrl,
      engineTenantId: example.camundaTenantId,
    });
    this.bind(TaskSecurityBindings.CONFIG).to({
      cors: example.cors,
      rateLimits: example.rateLimits,
      // helmet's defaults, but the API explorer's page runs an inline script.
      helmet: {
        contentSecurityPolicy: {
          directives: {scriptSrc: ["'self'", "'unsafe-inline'"]},
        },
      },
    });
    this.bind(TaskObservabilityBindings.CONFIG).to({
      logging: example.logging,
      metrics: {
        token: example.metrics.token,
        port: example.metrics.port,
        host: example.metrics.host,
      },
      readiness: {outboxMaxAgeMs: example.readyOutboxMaxAgeMs},
      shutdown: {
        timeoutMs: example.shutdownTimeoutMs,
        drainDelayMs: example.shutdownDrainDelayMs,
      },
    });
    // The logger main() writes with, so the app's lines and its own are one stream.
    if (logger) this.bind(TaskObservabilityBindings.LOGGER).to(logger);
    // The sample workflows need only the first two; ReadDataCommand is the
    // README's custom command, for workflows with a `read-data` service task.
    this.bind(TaskServiceBindings.COMMANDS).to([
      CreateTaskCommand,
      EndTaskCommand,
      ReadDataCommand,
    ]);
    this.component(TaskServiceComponent);
    this.setUpConnectors();
  }

  /** HTTP on a side unless TASK_INCOMING / TASK_OUTGOING say kafka. */
  private setUpConnectors() {
    const {incoming, outgoing, kafka} = this.example;
    if (incoming === 'http' || outgoing === 'http') {
      this.component(TaskHttpComponent);
      this.bind(TaskHttpBindings.CONFIG).to({
        allowPrivateUrls: this.example.webhookAllowPrivateUrls,
        secretKeys: this.example.clientSecretKeys,
      });
    }
    if (incoming !== 'kafka' && outgoing !== 'kafka') return;
    this.bind(TaskServiceKafkaModule.CONFIG).to({
      connection: {
        clientId: kafka.clientId,
        brokers: kafka.brokers,
        ...(kafka.ssl ? {ssl: true} : {}),
      },
      consumer: {groupId: kafka.groupId},
      producer: {},
      topics: kafka.topics,
      output: {topic: kafka.outputTopic},
    });
    this.bind(TaskServiceKafkaModule.ADAPTER).toClass(KafkaEventAdapter);
    // One Kafka service (one consumer, one producer) serves whichever sides
    // use Kafka; rebinding a side after the HTTP component leaves the other.
    const kafkaStream = this.bind('connectors.KafkaStreamService').toInjectable(
      KafkaStreamService,
    );
    if (incoming === 'kafka') {
      this.bind(TaskServiceBindings.INCOMING_CONNECTOR).toAlias(
        kafkaStream.key,
      );
    }
    if (outgoing === 'kafka') {
      this.bind(TaskServiceBindings.OUTGOING_CONNECTOR).toAlias(
        kafkaStream.key,
      );
    }
  }
}
