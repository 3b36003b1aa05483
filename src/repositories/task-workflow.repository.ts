import {TaskWorkflow} from '../models';
import {auditedTableOn, JUGGLER_REPOSITORIES, RepositoryBases} from './bases';

/** `TaskWorkflowRepository` on the given bases (juggler or Sequelize). */
export function defineTaskWorkflowRepository(bases: RepositoryBases) {
  class TaskWorkflowRepository extends auditedTableOn<
    TaskWorkflow,
    typeof TaskWorkflow.prototype.id
  >(bases, TaskWorkflow) {}
  return TaskWorkflowRepository;
}

export class TaskWorkflowRepository extends defineTaskWorkflowRepository(
  JUGGLER_REPOSITORIES,
) {}
