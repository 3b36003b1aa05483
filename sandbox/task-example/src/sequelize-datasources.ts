import {inject, lifeCycleObserver, LifeCycleObserver} from '@loopback/core';
import {
  SequelizeDataSource,
  SequelizeDataSourceConfig,
} from '@loopback/sequelize';
import {
  TaskDbSourceName,
  WorkflowServiceSourceName,
} from 'loopback4-task-service';

/**
 * The datasources a host with `useSequelize: true` writes: one class per
 * datasource name of the service, on `SequelizeDataSource`, started and
 * stopped with the app. The example binds their config (from its
 * environment) at `datasources.config.<name>`; an app would usually keep a
 * literal config in the file, under `src/datasources/`, for the booter.
 */
@lifeCycleObserver('datasource')
export class TaskDbDataSource
  extends SequelizeDataSource
  implements LifeCycleObserver
{
  static dataSourceName = TaskDbSourceName;

  constructor(
    @inject(`datasources.config.${TaskDbSourceName}`)
    config: SequelizeDataSourceConfig,
  ) {
    super(config);
  }
}

@lifeCycleObserver('datasource')
export class WorkflowCacheDataSource
  extends SequelizeDataSource
  implements LifeCycleObserver
{
  static dataSourceName = WorkflowServiceSourceName;

  constructor(
    @inject(`datasources.config.${WorkflowServiceSourceName}`)
    config: SequelizeDataSourceConfig,
  ) {
    super(config);
  }
}
