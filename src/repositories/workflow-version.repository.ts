import {inject} from '@loopback/core';
import {juggler} from '@loopback/repository';
import {WorkflowVersion} from '../models';
import {TaskSqlBindings} from '../sql';
import {ServiceTableRepository} from './service-table.repository';

export class WorkflowVersionRepository extends ServiceTableRepository<
  WorkflowVersion,
  typeof WorkflowVersion.prototype.id,
  {}
> {
  constructor(
    @inject(TaskSqlBindings.WORKFLOW_DATASOURCE)
    dataSource: juggler.DataSource,
  ) {
    super(WorkflowVersion, dataSource);
  }
}
