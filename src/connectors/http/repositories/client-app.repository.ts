import {ClientApp} from '../models';
import {
  auditedTableOn,
  JUGGLER_REPOSITORIES,
  RepositoryBases,
} from '../../../repositories';

/** `ClientAppRepository` on the given bases (juggler or Sequelize). */
export function defineClientAppRepository(bases: RepositoryBases) {
  class ClientAppRepository extends auditedTableOn<
    ClientApp,
    typeof ClientApp.prototype.id
  >(bases, ClientApp) {}
  return ClientAppRepository;
}

export class ClientAppRepository extends defineClientAppRepository(
  JUGGLER_REPOSITORIES,
) {}
