import {Getter, inject} from '@loopback/core';
import {HasManyRepositoryFactory, repository} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {Workflow, WorkflowRelations, WorkflowVersion} from '../models';
import {TaskUser} from '../types';
import {CurrentUserGetter} from './audited-crud.repository';
import {JUGGLER_REPOSITORIES, RepositoryBases} from './bases';
import {WorkflowVersionRepository} from './workflow-version.repository';
import {TaskDataSource, TaskSqlBindings} from '../sql';

/** `WorkflowRepository` on the given bases (juggler or Sequelize). */
export function defineWorkflowRepository(bases: RepositoryBases) {
  class WorkflowRepository extends bases.Audited<
    Workflow,
    typeof Workflow.prototype.id,
    WorkflowRelations
  > {
    readonly workflowVersions: HasManyRepositoryFactory<
      WorkflowVersion,
      typeof Workflow.prototype.id
    >;

    constructor(
      @inject(TaskSqlBindings.WORKFLOW_DATASOURCE)
      dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
      @repository.getter(WorkflowVersionRepository)
      workflowVersionRepositoryGetter: Getter<WorkflowVersionRepository>,
    ) {
      super(Workflow, dataSource, getCurrentUser, systemUser);
      this.workflowVersions = this.createHasManyRepositoryFactoryFor(
        'workflowVersions',
        workflowVersionRepositoryGetter,
      );
      this.registerInclusionResolver(
        'workflowVersions',
        this.workflowVersions.inclusionResolver,
      );
    }
  }
  return WorkflowRepository;
}

export class WorkflowRepository extends defineWorkflowRepository(
  JUGGLER_REPOSITORIES,
) {}
