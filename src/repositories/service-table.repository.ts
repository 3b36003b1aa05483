import {
  DefaultTransactionalRepository,
  Entity,
  juggler,
  Model,
} from '@loopback/repository';
import {fittedToDialect, leaveSchemaToMigrations} from '../sql';

/**
 * A repository of one of the service's own tables, on PostgreSQL or MySQL:
 * the model it attaches fits the datasource's dialect (who makes the ids),
 * and the datasource's schema is left to the service's migrations.
 */
export class ServiceTableRepository<
  T extends Entity,
  ID,
  Relations extends object = {},
> extends DefaultTransactionalRepository<T, ID, Relations> {
  constructor(
    entityClass: typeof Entity & {prototype: T},
    dataSource: juggler.DataSource,
  ) {
    super(entityClass, dataSource);
    leaveSchemaToMigrations(dataSource);
  }

  protected override definePersistedModel(
    entityClass: typeof Model,
  ): typeof juggler.PersistedModel {
    return super.definePersistedModel(
      fittedToDialect(entityClass, this.dataSource),
    );
  }
}
