import {Getter} from '@loopback/core';
import {
  AnyObject,
  Count,
  DefaultTransactionalRepository,
  Entity,
  EntityCrudRepository,
  Filter,
  Options,
  HasManyRepositoryFactory,
  InclusionResolver,
  juggler,
  Model,
  Where,
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

/** What of loopback-connector's `SQLConnector` a direct read uses. */
interface SqlConnectorInternals {
  all: ConnectorAll;
  fromRow(model: string, row: AnyObject): AnyObject;
  buildSelect(
    model: string,
    filter: AnyObject,
    options: Options,
  ): {sql: string; params: unknown[]};
  execute(
    sql: string,
    params: unknown[],
    options: Options,
    callback: (err: Error | null, rows?: AnyObject[]) => void,
  ): void;
  column(model: string, property: string): string;
  fromColumnValue(definition: unknown, value: unknown): unknown;
  getModelDefinition(model: string): {properties: Record<string, unknown>};
}

/** The direct read of each connector (null: it has none). */
const directReads = new WeakMap<object, DirectRead | null>();

/** How a direct read runs its SELECT and makes its rows model data. */
interface DirectRead {
  select(
    model: string,
    filter: AnyObject,
    options: Options,
  ): Promise<AnyObject[]>;
}

/** The object of `target`'s prototype chain that holds `name` itself. */
function holderOf(target: object, name: string): object | undefined {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
    if (Object.prototype.hasOwnProperty.call(o, name)) return o;
  }
  return undefined;
}

/**
 * Rows mapped to model data as `SQLConnector.fromRow` maps them (each
 * property from its column, through the connector's `fromColumnValue`),
 * with the columns of the model's properties looked up once rather than
 * for every property of every row.
 */
const rowMappers = new WeakMap<
  object,
  Map<string, (row: AnyObject) => AnyObject>
>();

function rowMapperOf(
  connector: SqlConnectorInternals,
  model: string,
): (row: AnyObject) => AnyObject {
  let byModel = rowMappers.get(connector);
  if (!byModel) rowMappers.set(connector, (byModel = new Map()));
  let mapper = byModel.get(model);
  if (mapper) return mapper;
  const {properties} = connector.getModelDefinition(model);
  const columns = Object.keys(properties).map(
    name => [name, connector.column(model, name), properties[name]] as const,
  );
  mapper = row => {
    const data: AnyObject = {};
    for (const [name, column, definition] of columns) {
      const value = connector.fromColumnValue(definition, row[column]);
      if (value !== undefined) data[name] = value;
    }
    return data;
  };
  byModel.set(model, mapper);
  return mapper;
}

/**
 * The connector's way to a page of model data: `all` itself, or, when
 * neither `all` nor `fromRow` is a dialect's own (the SQL connectors'
 * case), `all`'s steps with the row mapping of `rowMapperOf`.
 */
function directReadOn(connector: object): DirectRead | undefined {
  const sql = connector as Partial<SqlConnectorInternals>;
  const all = sql.all;
  if (typeof all !== 'function' || all.length < 4) return undefined;
  const generic =
    holderOf(connector, 'all') === holderOf(connector, 'fromRow') &&
    typeof sql.buildSelect === 'function' &&
    typeof sql.execute === 'function' &&
    typeof sql.column === 'function' &&
    typeof sql.fromColumnValue === 'function' &&
    typeof sql.getModelDefinition === 'function';
  if (!generic) {
    return {
      select: (model, filter, options) =>
        new Promise((resolve, reject) =>
          all.call(connector, model, filter, options, (err, rows) =>
            err ? reject(err) : resolve(rows ?? []),
          ),
        ),
    };
  }
  const internals = sql as SqlConnectorInternals;
  return {
    select: (model, filter, options) => {
      const statement = internals.buildSelect(model, filter, options);
      const toData = rowMapperOf(internals, model);
      return new Promise((resolve, reject) =>
        internals.execute(
          statement.sql,
          statement.params,
          options,
          (err, rows) =>
            err ? reject(err) : resolve((rows ?? []).map(toData)),
        ),
      );
    },
  };
}

/**
 * `work()` with no stack captured for errors made inside it. The juggler's
 * filter coercion throws and catches an error for every plain value of a
 * `where` (it tries each as an array first); the stacks of those errors,
 * never seen, were most of its cost. `work` must be synchronous; an error
 * it throws out (a 400 for a malformed filter) keeps its message and status.
 */
function withoutStacks<T>(work: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return work();
  } finally {
    Error.stackTraceLimit = limit;
  }
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
    const direct = this.directReadOf(filter, options);
    if (!direct) return super.find(filter, options);
    return this.readDirectly(direct, filter, options);
  }

  /** `find` with a limit of one, as the juggler's `findOne` is, on the same path. */
  override async findOne(
    filter?: Filter<T>,
    options?: Options,
  ): Promise<(T & Relations) | null> {
    const direct = this.directReadOf(filter, options);
    if (!direct) return super.findOne(filter, options);
    const [first] = await this.readDirectly(
      direct,
      {...filter, limit: 1},
      options,
    );
    return first ?? null;
  }

  /**
   * `count` as the juggler counts, with the error stacks of its `where`
   * coercion (made before its first wait) left out, as `find` does.
   */
  override count(where?: Where<T>, options?: Options): Promise<Count> {
    return withoutStacks(() => super.count(where, options));
  }

  private async readDirectly(
    direct: DirectRead,
    filter?: Filter<T>,
    options?: Options,
  ): Promise<(T & Relations)[]> {
    const model = this.modelClass as unknown as JugglerModelInternals;
    const query: AnyObject = this.normalizeFilter(filter) ?? {};
    const opts = options ?? {};
    withoutStacks(() => {
      model._normalize(query, opts);
      model.applyScope(query);
    });
    const rows = await direct.select(model.modelName, query, opts);
    const names = bigintLoaders.get(this.modelClass)?.names ?? [];
    return rows.map(
      row =>
        new this.entityClass(withBigintsAsNumbers(names, row)) as T & Relations,
    );
  }

  /** The connector's way to read when `find` may read through it directly. */
  private directReadOf(
    filter?: Filter<T>,
    options?: Options,
  ): DirectRead | undefined {
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
    const {connector} = dataSource;
    if (!connector) return undefined;
    let direct = directReads.get(connector);
    if (direct === undefined) {
      direct = directReadOn(connector) ?? null;
      directReads.set(connector, direct);
    }
    return direct ?? undefined;
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
