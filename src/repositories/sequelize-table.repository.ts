import {Getter} from '@loopback/core';
import {
  AnyObject,
  DataObject,
  Entity,
  EntityCrudRepository,
  EntityNotFoundError,
  Filter,
  FilterExcludingWhere,
  HasManyRepositoryFactory,
  includeRelatedModels,
  Options,
  PropertyDefinition,
  Where,
} from '@loopback/repository';
import {
  SequelizeCrudRepository,
  SequelizeDataSource,
} from '@loopback/sequelize';
import {DataTypes, ModelAttributeColumnOptions, Op} from 'sequelize';
import {TASK_SCHEMA} from '../models';
import {
  fittedToDialect,
  isSequelizeDataSource,
  leaveSchemaToMigrations,
  SqlSession,
  sqlDialectOf,
  sqlSessionOf,
  TaskDataSource,
} from '../sql';
import {ServiceTableRepository} from './service-table.repository';

type Attributes = Record<string, ModelAttributeColumnOptions>;

/** Where a model is stored on a dialect, as the models say it (`serviceTable`). */
interface TableSettings {
  schema?: string;
  table?: string;
}

/**
 * `ServiceTableRepository` on Sequelize (`SequelizeCrudRepository` of
 * `@loopback/sequelize`), behaving as the juggler one does:
 *
 * - the Sequelize model maps the tables and columns the migrations make
 *   (the models' `postgresql` / `mysql` settings: schema, table, column
 *   names), fitted to the dialect as on the juggler (who makes the ids);
 *   values come back as the juggler gives them (booleans, numbers, dates);
 * - relations are resolved by the target repository (LoopBack's inclusion
 *   resolvers), so its rules (soft delete) hold for included rows too;
 * - every read and write honours `options.transaction`; `replaceById`
 *   replaces the whole row; the datasource's schema is left to the
 *   service's migrations.
 */
export class SequelizeTableRepository<
  T extends Entity,
  ID,
  Relations extends object = {},
>
  extends SequelizeCrudRepository<T, ID, Relations>
  implements ServiceTableRepository<T, ID, Relations>
{
  readonly sql: SqlSession;

  constructor(
    entityClass: typeof Entity & {prototype: T},
    dataSource: TaskDataSource,
  ) {
    super(entityClass, dataSource as SequelizeDataSource);
    if (!isSequelizeDataSource(dataSource)) {
      throw new Error(
        `${entityClass.modelName}: \`useSequelize: true\` builds the repositories on Sequelize, but the datasource ${dataSource.name} is not a SequelizeDataSource (of @loopback/sequelize).`,
      );
    }
    leaveSchemaToMigrations(dataSource);
    this.sql = sqlSessionOf(dataSource);
  }

  /**
   * A `regexp` condition as the juggler reads it: `'/source/flags'` (or a
   * RegExp) is the pattern with its flags, `i` matching case-insensitively
   * (PostgreSQL `~*`, an inline `(?i)` on MySQL/MariaDB). The base passed
   * the text on as the pattern itself, so such a filter matched nothing.
   */
  override buildSequelizeWhere<MT extends T>(where: Where<MT>) {
    const built = super.buildSequelizeWhere(where);
    withJugglerRegexps(built, sqlDialectOf(this.dataSource).name);
    return built;
  }

  /** Called by the base constructor: uses nothing this class initialises. */
  override getSequelizeModel(entityClass = this.entityClass) {
    const sequelize = this.dataSource.sequelize;
    const defined = sequelize.models[entityClass.modelName];
    if (defined) return defined;
    const dialect = sqlDialectOf(this.dataSource).name;
    const fitted = fittedToDialect(entityClass, this.dataSource);
    const where = entityClass.definition.settings[dialect] as
      TableSettings | undefined;
    return sequelize.define(
      entityClass.modelName,
      this.getSequelizeModelAttributes(fitted.definition.properties),
      {
        timestamps: false,
        freezeTableName: true,
        tableName: where?.table ?? entityClass.modelName,
        ...(dialect === 'postgresql'
          ? {schema: where?.schema ?? TASK_SCHEMA}
          : {}),
      },
    );
  }

  protected override getSequelizeModelAttributes(definition: {
    [name: string]: PropertyDefinition;
  }) {
    const attributes = super.getSequelizeModelAttributes(
      definition,
    ) as Attributes;
    const dialect = sqlDialectOf(this.dataSource).name;
    for (const [name, property] of Object.entries(definition)) {
      const attribute = attributes[name];
      const column = (property[dialect] as {columnName?: string} | undefined)
        ?.columnName;
      if (column) attribute.field = column;
      const type = typeName(property.type);
      // Sequelize writes MySQL datetimes without their milliseconds unless
      // the type has a precision; the columns are DATETIME(3).
      if (type === 'date' && dialect === 'mysql') {
        attribute.type = DataTypes.DATE(3);
      }
      const read = readerOf(type);
      if (read && !attribute.get) {
        attribute.get = function (this: {getDataValue(key: string): unknown}) {
          return read(this.getDataValue(name));
        };
      }
    }
    return attributes;
  }

  override async create(data: DataObject<T>, options?: Options): Promise<T> {
    return super.create(plain(data), options);
  }

  override async createAll(
    data: DataObject<T>[],
    options?: Options,
  ): Promise<T[]> {
    // PostgreSQL makes the ids: every created row comes back with its own.
    return super.createAll(data.map(plain), {returning: true, ...options});
  }

  override async find(
    filter?: Filter<T>,
    options?: Options,
  ): Promise<(T & Relations)[]> {
    const {include, ...rest} = filter ?? {};
    const found = await super.find(rest, options);
    return this.withIncluded(found, include, options);
  }

  override async findOne(
    filter?: Filter<T>,
    options?: Options,
  ): Promise<(T & Relations) | null> {
    const {include, ...rest} = filter ?? {};
    const found = await super.findOne(rest, options);
    if (!found) return null;
    return (await this.withIncluded([found], include, options))[0];
  }

  override async findById(
    id: ID,
    filter?: FilterExcludingWhere<T>,
    options?: Options,
  ): Promise<T & Relations> {
    const found = await this.findOne(
      {...(filter ?? {}), where: this.byId(id)},
      options,
    );
    if (!found) throw new EntityNotFoundError(this.entityClass, id);
    return found;
  }

  override async exists(id: ID, options?: Options): Promise<boolean> {
    const {count} = await this.count(this.byId(id), options);
    return count > 0;
  }

  /**
   * As on the juggler: the row becomes `data`; a property left out takes
   * its model default, or is emptied.
   */
  override async replaceById(
    id: ID,
    data: DataObject<T>,
    options?: Options,
  ): Promise<void> {
    const values: AnyObject = {...plain(data)};
    const idNames = this.entityClass.getIdProperties();
    const properties = this.entityClass.definition.properties;
    for (const [name, property] of Object.entries(properties)) {
      if (idNames.includes(name)) delete values[name];
      else if (values[name] === undefined)
        values[name] = property.default ?? null;
    }
    const {count} = await this.updateAll(
      values as DataObject<T>,
      this.byId(id),
      options,
    );
    if (count === 0 && !(await this.exists(id, options))) {
      throw new EntityNotFoundError(this.entityClass, id);
    }
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

  private byId(id: ID): Where<T> {
    return {[this.entityClass.getIdProperties()[0]]: id} as Where<T>;
  }

  private async withIncluded(
    entities: (T & Relations)[],
    include: Filter<T>['include'],
    options?: Options,
  ): Promise<(T & Relations)[]> {
    if (!include?.length) return entities;
    return includeRelatedModels<T, Relations>(this, entities, include, options);
  }
}

/** A value as the juggler hands it over, for the property types that need it. */
function readerOf(type: string): ((value: unknown) => unknown) | undefined {
  switch (type) {
    case 'boolean':
      // MySQL's TINYINT(1).
      return v => (typeof v === 'number' ? v !== 0 : v);
    case 'number':
      // PostgreSQL's bigint, as a string.
      return v => (typeof v === 'string' ? Number(v) : v);
    case 'date':
      return v => (typeof v === 'string' ? new Date(v) : v);
    default:
      return undefined;
  }
}

function typeName(type: unknown): string {
  return (typeof type === 'function' ? type.name : String(type)).toLowerCase();
}

/** Plain data for Sequelize, from a model instance or plain data. */
function plain<T extends Entity>(data: DataObject<T>): DataObject<T> {
  return data instanceof Entity ? (data.toObject() as DataObject<T>) : data;
}

/** A pattern as the juggler reads a `regexp` value; undefined: a plain pattern. */
function jugglerRegExp(value: unknown): RegExp | undefined {
  if (value instanceof RegExp) return value;
  if (typeof value !== 'string') return undefined;
  const parts = /^\/(.*)\/([a-z]*)$/s.exec(value);
  if (!parts) return undefined;
  try {
    return new RegExp(parts[1], parts[2]);
  } catch {
    return undefined;
  }
}

/** Rewrites the `Op.regexp` conditions of a built where in place (see `buildSequelizeWhere`). */
function withJugglerRegexps(where: unknown, dialect: string): void {
  if (Array.isArray(where)) {
    for (const part of where) withJugglerRegexps(part, dialect);
    return;
  }
  if (!where || typeof where !== 'object') return;
  const condition = where as Record<string | symbol, unknown>;
  const pattern = jugglerRegExp(condition[Op.regexp]);
  if (pattern) {
    delete condition[Op.regexp];
    if (dialect === 'postgresql') {
      condition[pattern.ignoreCase ? Op.iRegexp : Op.regexp] = pattern.source;
    } else {
      condition[Op.regexp] =
        (pattern.ignoreCase ? '(?i)' : '') +
        (pattern.multiline ? '(?m)' : '') +
        pattern.source;
    }
  }
  for (const key of [
    ...Object.keys(condition),
    ...Object.getOwnPropertySymbols(condition),
  ]) {
    withJugglerRegexps(condition[key], dialect);
  }
}
