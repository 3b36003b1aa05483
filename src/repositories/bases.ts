import {inject} from '@loopback/core';
import {SecurityBindings} from '@loopback/security';
import {TaskServiceBindings} from '../keys';
import {AuditedEntity} from '../models';
import {TaskDataSource, TaskSqlBindings} from '../sql';
import {TaskUser} from '../types';
import {
  auditedCrudOn,
  AuditedCrudRepository,
  AuditedCrudRepositoryClass,
  CurrentUserGetter,
} from './audited-crud.repository';
import {SequelizeTableRepository} from './sequelize-table.repository';
import {
  ServiceTableRepository,
  ServiceTableRepositoryClass,
} from './service-table.repository';

/** The ORMs the repositories can be built on. */
export type RepositoryOrm = 'juggler' | 'sequelize';

/**
 * The base classes the service's repositories are built on, for one ORM.
 * Every repository is defined once, on the bases it is given
 * (`defineTaskRepository(bases)` …); the component binds those built on the
 * juggler, or with `useSequelize: true` those built on Sequelize, under the
 * same binding keys.
 */
export interface RepositoryBases {
  readonly orm: RepositoryOrm;
  /** A table of the service (`ServiceTableRepository`). */
  readonly ServiceTable: ServiceTableRepositoryClass;
  /** A table with audit columns and soft delete (`AuditedCrudRepository`). */
  readonly Audited: AuditedCrudRepositoryClass;
}

/** On the juggler: `DefaultTransactionalRepository` and a juggler datasource. */
export const JUGGLER_REPOSITORIES: RepositoryBases = {
  orm: 'juggler',
  ServiceTable: ServiceTableRepository,
  Audited: AuditedCrudRepository,
};

const SequelizeServiceTable =
  SequelizeTableRepository as unknown as ServiceTableRepositoryClass;

/** On Sequelize: `SequelizeCrudRepository` and a `SequelizeDataSource`. */
export const SEQUELIZE_REPOSITORIES: RepositoryBases = {
  orm: 'sequelize',
  ServiceTable: SequelizeServiceTable,
  Audited: auditedCrudOn(SequelizeServiceTable),
};

const built = new WeakMap<object, Map<RepositoryBases, unknown>>();

/**
 * The repository class that `define` makes on `bases`, made once per
 * bases (every app that uses it shares the class, as it shares an exported one).
 */
export function repositoryOn<C>(
  bases: RepositoryBases,
  define: (bases: RepositoryBases) => C,
): C {
  let classes = built.get(define);
  if (!classes) built.set(define, (classes = new Map()));
  if (!classes.has(bases)) classes.set(bases, define(bases));
  return classes.get(bases) as C;
}

/**
 * An audited repository of `entityClass` on the task datasource, made on
 * `bases`: the constructor every audited table of the service shares (the
 * datasource, the current user, the system user). Extend it to add methods;
 * a repository with relations writes its own constructor.
 */
export function auditedTableOn<
  T extends AuditedEntity,
  ID,
  Relations extends object = {},
>(bases: RepositoryBases, entityClass: typeof AuditedEntity & {prototype: T}) {
  class AuditedTable extends bases.Audited<T, ID, Relations> {
    constructor(
      @inject(TaskSqlBindings.TASK_DATASOURCE) dataSource: TaskDataSource,
      @inject.getter(SecurityBindings.USER, {optional: true})
      getCurrentUser: CurrentUserGetter,
      @inject(TaskServiceBindings.SYSTEM_USER) systemUser: TaskUser,
    ) {
      super(entityClass, dataSource, getCurrentUser, systemUser);
    }
  }
  return AuditedTable;
}
