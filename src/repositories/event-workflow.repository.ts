import {EventWorkflow} from '../models';
import {auditedTableOn, JUGGLER_REPOSITORIES, RepositoryBases} from './bases';

/** `EventWorkflowRepository` on the given bases (juggler or Sequelize). */
export function defineEventWorkflowRepository(bases: RepositoryBases) {
  class EventWorkflowRepository extends auditedTableOn<
    EventWorkflow,
    typeof EventWorkflow.prototype.id
  >(bases, EventWorkflow) {}
  return EventWorkflowRepository;
}

export class EventWorkflowRepository extends defineEventWorkflowRepository(
  JUGGLER_REPOSITORIES,
) {}
