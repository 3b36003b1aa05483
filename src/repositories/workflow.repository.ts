import {Getter, inject} from '@loopback/core';
import {
  HasManyRepositoryFactory,
  juggler,
  repository,
} from '@loopback/repository';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {Workflow, WorkflowRelations, WorkflowVersion} from '../models';
import {TaskUser} from '../types';
import {
  AuditedCrudRepository,
  CurrentUserGetter,
} from './audited-crud.repository';
import {WorkflowVersionRepository} from './workflow-version.repository';
import {TaskSqlBindings} from '../sql';

export class WorkflowRepository extends AuditedCrudRepository<
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
    dataSource: juggler.DataSource,
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
