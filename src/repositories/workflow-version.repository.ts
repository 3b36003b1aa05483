import {inject} from '@loopback/core';
import {DefaultTransactionalRepository, juggler} from '@loopback/repository';
import {WorkflowVersion} from '../models';
import {WorkflowServiceSourceName} from '../types';

export class WorkflowVersionRepository extends DefaultTransactionalRepository<
  WorkflowVersion,
  typeof WorkflowVersion.prototype.id,
  {}
> {
  constructor(
    @inject(`datasources.${WorkflowServiceSourceName}`)
    dataSource: juggler.DataSource,
  ) {
    super(WorkflowVersion, dataSource);
  }
}
