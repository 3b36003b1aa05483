import {Getter} from '@loopback/core';
import {
  DefaultTransactionalRepository,
  Entity,
  EntityCrudRepository,
  Filter,
  Options,
  HasManyRepositoryFactory,
  InclusionResolver,
  juggler,
  Model,
} from '@loopback/repository';
import {
  fittedToDialect,
  isSequelizeDataSource,
  leaveSchemaToMigrations,
  SqlSession,
  sqlSessionOf,
  TaskDataSource,
} from '../sql';

/**
 * A repository of one of the service's own tables, on PostgreSQL or MySQL,
 * through the juggler or through Sequelize: what the service's repositories
 * build on, whichever base was chosen (`RepositoryBases`).
 */
export interface ServiceTableRepository<
  T extends Entity,
  ID,
  Relations extends object = {},
> extends EntityCrudRepository<T, ID, Relations> {
  /** The SQL session of the repository's datasource (its raw statements). */
  readonly sql: SqlSession;
  findOne(
    filter?: Filter<T>,
    options?: Options,
  ): Promise<(T & Relations) | null>;
  registerInclusionResolver(
    relationName: string,
    resolver: InclusionResolver<T, Entity>,
  ): void;
  createHasManyRepositoryFactoryFor<
    Target extends Entity,
    TargetID,
    ForeignKeyType,
  >(
    relationName: string,
    targetRepositoryGetter: Getter<EntityCrudRepository<Target, TargetID>>,
  ): HasManyRepositoryFactory<Target, ForeignKeyType>;
}

/** A base class of `ServiceTableRepository`: juggler's or Sequelize's. */
export interface ServiceTableRepositoryClass {
  new <T extends Entity, ID, Relations extends object = {}>(
    entityClass: typeof Entity & {prototype: T},
    dataSource: TaskDataSource,
  ): ServiceTableRepository<T, ID, Relations>;
}

/** Model classes whose bigint columns already come back as numbers. */
const numericBigints = new WeakSet<object>();

/**
 * PostgreSQL hands bigint columns over as strings; the models say number.
 * The datasource's model class is shared by every repository instance (one
 * per request): its observer is registered once, not per instance.
 */
function loadBigintsAsNumbers(modelClass: typeof juggler.PersistedModel) {
  if (numericBigints.has(modelClass)) return;
  numericBigints.add(modelClass);
  const bigints = Object.entries(modelClass.definition.properties)
    .filter(
      ([, p]) =>
        (p as {postgresql?: {dataType?: string}}).postgresql?.dataType ===
        'bigint',
    )
    .map(([name]) => name);
  if (!bigints.length) return;
  modelClass.observe('loaded', async ctx => {
    for (const name of bigints) {
      if (ctx.data?.[name] != null) ctx.data[name] = Number(ctx.data[name]);
    }
  });
}

/** The datasource, when it is a juggler one; else an error that says what to set. */
function jugglerDataSource(
  entityClass: typeof Entity,
  dataSource: TaskDataSource,
): juggler.DataSource {
  if (isSequelizeDataSource(dataSource)) {
    throw new Error(
      `${entityClass.modelName}: the datasource ${sqlSessionOf(dataSource).name} is a SequelizeDataSource, but the repositories are the juggler's; set \`useSequelize: true\` in the TaskServiceComponent config (TaskServiceBindings.CONFIG).`,
    );
  }
  return dataSource;
}

/**
 * `ServiceTableRepository` on the juggler (`DefaultTransactionalRepository`):
 * the model it attaches fits the datasource's dialect (who makes the ids),
 * and the datasource's schema is left to the service's migrations.
 */
export class JugglerTableRepository<
  T extends Entity,
  ID,
  Relations extends object = {},
>
  extends DefaultTransactionalRepository<T, ID, Relations>
  implements ServiceTableRepository<T, ID, Relations>
{
  readonly sql: SqlSession;

  constructor(
    entityClass: typeof Entity & {prototype: T},
    dataSource: TaskDataSource,
  ) {
    super(entityClass, jugglerDataSource(entityClass, dataSource));
    leaveSchemaToMigrations(dataSource);
    this.sql = sqlSessionOf(dataSource);
    loadBigintsAsNumbers(this.modelClass);
  }

  protected override definePersistedModel(
    entityClass: typeof Model,
  ): typeof juggler.PersistedModel {
    return super.definePersistedModel(
      fittedToDialect(entityClass, this.dataSource),
    );
  }

  override createHasManyRepositoryFactoryFor<
    Target extends Entity,
    TargetID,
    ForeignKeyType,
  >(
    relationName: string,
    targetRepositoryGetter: Getter<EntityCrudRepository<Target, TargetID>>,
  ): HasManyRepositoryFactory<Target, ForeignKeyType> {
    return super.createHasManyRepositoryFactoryFor(
      relationName,
      targetRepositoryGetter,
    );
  }
}

/**
 * The juggler's `ServiceTableRepository` class, for repositories of a host
 * that extend it (the service's own are defined on either base, see
 * `RepositoryBases`).
 */
export const ServiceTableRepository =
  JugglerTableRepository as unknown as ServiceTableRepositoryClass;
