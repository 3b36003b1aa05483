import {Getter} from '@loopback/core';
import {
  AnyObject,
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

/**
 * The bigint columns of each datasource model class, and the observer that
 * loads them as numbers (one per class).
 */
const bigintLoaders = new WeakMap<
  object,
  {names: string[]; observer?: unknown}
>();

/** `row` with its bigint columns as numbers. */
function withBigintsAsNumbers(names: string[], row: AnyObject): AnyObject {
  for (const name of names) {
    if (row[name] != null) row[name] = Number(row[name]);
  }
  return row;
}

/**
 * PostgreSQL hands bigint columns over as strings; the models say number.
 * The datasource's model class is shared by every repository instance (one
 * per request): its observer is registered once, not per instance.
 */
function loadBigintsAsNumbers(modelClass: typeof juggler.PersistedModel) {
  if (bigintLoaders.has(modelClass)) return;
  const names = Object.entries(modelClass.definition.properties)
    .filter(
      ([, p]) =>
        (p as {postgresql?: {dataType?: string}}).postgresql?.dataType ===
        'bigint',
    )
    .map(([name]) => name);
  if (!names.length) {
    bigintLoaders.set(modelClass, {names});
    return;
  }
  const observer: Parameters<typeof modelClass.observe>[1] = async ctx => {
    if (ctx.data) withBigintsAsNumbers(names, ctx.data);
  };
  bigintLoaders.set(modelClass, {names, observer});
  modelClass.observe('loaded', observer);
}

/** What of a juggler model class `find` reads the rows through. */
interface JugglerModelInternals {
  modelName: string;
  base?: JugglerModelInternals;
  _observers?: Record<string, unknown[]>;
  _normalize(filter: AnyObject, options: Options): void;
  applyScope(filter: AnyObject): void;
  getDataSource(): juggler.DataSource & {
    connected?: boolean;
    isTransaction?: boolean;
  };
}

/** The connector's `all`, when it takes options (every SQL connector does). */
type ConnectorAll = (
  model: string,
  filter: AnyObject,
  options: Options,
  callback: (err: Error | null, rows?: AnyObject[]) => void,
) => void;

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

  /**
   * Reads as the juggler does (the filter normalized, coerced and scoped
   * by the model class, the SELECT built and its rows mapped by the
   * connector), but makes each entity from its row directly: not through
   * a juggler model instance, its 'loaded' notification and `toObject`,
   * which cost more than the statement on a page of rows. The entities
   * are the same. A filter with relations to include, a transaction, a
   * datasource still connecting, or a model with observers other than the
   * service's own go the juggler's whole way.
   */
  override async find(
    filter?: Filter<T>,
    options?: Options,
  ): Promise<(T & Relations)[]> {
    const all = this.directReadOf(filter, options);
    if (!all) return super.find(filter, options);
    const model = this.modelClass as unknown as JugglerModelInternals;
    const query: AnyObject = this.normalizeFilter(filter) ?? {};
    const opts = options ?? {};
    model._normalize(query, opts);
    model.applyScope(query);
    const rows = await new Promise<AnyObject[]>((resolve, reject) =>
      all(model.modelName, query, opts, (err, found) =>
        err ? reject(err) : resolve(found ?? []),
      ),
    );
    const names = bigintLoaders.get(this.modelClass)?.names ?? [];
    return rows.map(
      row =>
        new this.entityClass(withBigintsAsNumbers(names, row)) as T & Relations,
    );
  }

  /** The connector's `all` when `find` may read through it directly. */
  private directReadOf(
    filter?: Filter<T>,
    options?: Options,
  ): ConnectorAll | undefined {
    if (filter?.include ?? options?.transaction) return undefined;
    const model = this.modelClass as unknown as JugglerModelInternals;
    const dataSource = model.getDataSource();
    if (!dataSource.connected || dataSource.isTransaction) return undefined;
    const own = bigintLoaders.get(this.modelClass)?.observer;
    for (let m: JugglerModelInternals | undefined = model; m; m = m.base) {
      const observers = m._observers ?? {};
      if (observers.access?.length) return undefined;
      const loaded = observers.loaded ?? [];
      if (loaded.some(o => o !== own)) return undefined;
    }
    const all = (dataSource.connector as {all?: ConnectorAll} | undefined)?.all;
    if (typeof all !== 'function' || all.length < 4) return undefined;
    return all.bind(dataSource.connector);
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
