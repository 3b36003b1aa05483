import {inject} from '@loopback/core';
import {DefaultTransactionalRepository, juggler} from '@loopback/repository';
import {WorkflowVersion} from '../models';
import {TaskSqlBindings} from '../sql';

export class WorkflowVersionRepository extends DefaultTransactionalRepository<
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
