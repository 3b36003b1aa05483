import {inject} from '@loopback/core';
import {WorkflowVersion} from '../models';
import {TaskDataSource, TaskSqlBindings} from '../sql';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';

/** `WorkflowVersionRepository` on the given bases (juggler or Sequelize). */
export function defineWorkflowVersionRepository(bases: RepositoryBases) {
  class WorkflowVersionRepository extends bases.ServiceTable<
    WorkflowVersion,
    typeof WorkflowVersion.prototype.id,
    {}
  > {
    constructor(
      @inject(TaskSqlBindings.WORKFLOW_DATASOURCE)
      dataSource: TaskDataSource,
    ) {
      super(WorkflowVersion, dataSource);
    }
  }
  return WorkflowVersionRepository;
}

export class WorkflowVersionRepository extends defineWorkflowVersionRepository(
  JUGGLER_REPOSITORIES,
) {}
