import {Getter} from '@loopback/core';
import {
  Count,
  DataObject,
  Fields,
  Filter,
  FilterExcludingWhere,
  Options,
  Where,
  EntityNotFoundError,
} from '@loopback/repository';
import {AuditedEntity} from '../models';
import {TaskDataSource, withSavepoint} from '../sql';
import {
  ServiceTableRepository,
  ServiceTableRepositoryClass,
} from './service-table.repository';
import {TaskUser} from '../types';

/**
 * `where` narrowed by `condition`: one object when they share no key (the
 * keys of a where all hold, and the ORM reads a flat one with less work),
 * else `{and: [where, condition]}`.
 */
export function andWhere<T extends object>(
  where: Where<T> | undefined,
  condition: Where<T>,
): Where<T> {
  if (!where || !Object.keys(where).length) return condition;
  const shared = Object.keys(condition).some(key =>
    Object.prototype.hasOwnProperty.call(where, key),
  );
  return shared
    ? ({and: [where, condition]} as Where<T>)
    : ({...where, ...condition} as Where<T>);
}

/** Who the current write is done by; `undefined` means the system user. */
export type CurrentUserGetter = Getter<TaskUser | undefined>;

/**
 * A repository of a table with audit columns and soft delete (see
 * `auditedCrudOn`), on the base that was chosen (juggler or Sequelize).
 */
export interface AuditedCrudRepository<
  T extends AuditedEntity,
  ID,
  Relations extends object = {},
> extends ServiceTableRepository<T, ID, Relations> {
  readonly getCurrentUser: CurrentUserGetter;
  readonly systemUser: TaskUser;
  /** The live row matching `where`, created from `data` if there is none. */
  findOrCreate(
    where: Where<T>,
    data: DataObject<T>,
    options?: Options,
  ): Promise<T>;
  /** Creates the row, or gives `undefined` when a unique index already holds it. */
  createUnlessDuplicate(
    data: DataObject<T>,
    options?: Options,
  ): Promise<T | undefined>;
  /** Removes the row for real. */
  deleteByIdHard(id: ID, options?: Options): Promise<void>;
  /** Removes the matching rows for real. */
  deleteAllHard(where?: Where<T>, options?: Options): Promise<Count>;
  /** Locks the row until the transaction in `options` ends. */
  lockById(id: ID, options: Options): Promise<void>;
  /** Rows matching `filter`, deleted ones too (maintenance work). */
  findWithDeleted(filter?: Filter<T>, options?: Options): Promise<T[]>;
  /**
   * Changes the matching rows, deleted ones too, and leaves the audit
   * columns as they are (maintenance work).
   */
  updateAllWithDeleted(
    data: DataObject<T>,
    where?: Where<T>,
    options?: Options,
  ): Promise<Count>;
}

/** A base class of `AuditedCrudRepository`: juggler's or Sequelize's. */
export interface AuditedCrudRepositoryClass {
  new <T extends AuditedEntity, ID, Relations extends object = {}>(
    entityClass: typeof AuditedEntity & {prototype: T},
    dataSource: TaskDataSource,
    getCurrentUser: CurrentUserGetter,
    systemUser: TaskUser,
  ): AuditedCrudRepository<T, ID, Relations>;
}

/**
 * A transactional repository that fills the audit columns from the current
 * user (or the system user in background work) and soft-deletes: reads skip
 * rows marked `deleted`, `delete*` marks them, `delete*Hard` removes them.
 */
export function auditedCrudOn(
  base: ServiceTableRepositoryClass,
): AuditedCrudRepositoryClass {
  type T = AuditedEntity;
  type ID = unknown;
  type Relations = {};
  class Audited extends base<T, ID, Relations> {
    readonly getCurrentUser: CurrentUserGetter;
    readonly systemUser: TaskUser;

    constructor(
      entityClass: typeof AuditedEntity & {prototype: T},
      dataSource: TaskDataSource,
      getCurrentUser: CurrentUserGetter,
      systemUser: TaskUser,
    ) {
      super(entityClass, dataSource);
      this.getCurrentUser = getCurrentUser;
      this.systemUser = systemUser;
    }

    protected async actorId(): Promise<string> {
      const user = await this.getCurrentUser();
      return user?.id ?? this.systemUser.id;
    }

    protected notDeleted(where?: Where<T>): Where<T> {
      return andWhere(where, {deleted: false} as Where<T>);
    }

    private liveFilter<F extends Filter<T>>(filter?: F): F {
      return {...(filter ?? {}), where: this.notDeleted(filter?.where)} as F;
    }

    override async create(data: DataObject<T>, options?: Options): Promise<T> {
      const actor = await this.actorId();
      return super.create(
        {...data, createdBy: actor, modifiedBy: actor} as DataObject<T>,
        options,
      );
    }

    override async createAll(
      data: DataObject<T>[],
      options?: Options,
    ): Promise<T[]> {
      const actor = await this.actorId();
      return super.createAll(
        data.map(
          d => ({...d, createdBy: actor, modifiedBy: actor}) as DataObject<T>,
        ),
        options,
      );
    }

    override async save(entity: T, options?: Options): Promise<T> {
      const actor = await this.actorId();
      entity.modifiedBy = actor;
      entity.modifiedOn = new Date();
      if (!entity.createdBy) entity.createdBy = actor;
      return super.save(entity, options);
    }

    override async update(entity: T, options?: Options): Promise<void> {
      entity.modifiedBy = await this.actorId();
      entity.modifiedOn = new Date();
      return super.update(entity, options);
    }

    override async updateById(
      id: ID,
      data: DataObject<T>,
      options?: Options,
    ): Promise<void> {
      const count = await this.updateAll(data, this.idWhere(id), options);
      if (count.count === 0)
        throw new EntityNotFoundError(this.entityClass, id);
    }

    override async updateAll(
      data: DataObject<T>,
      where?: Where<T>,
      options?: Options,
    ): Promise<Count> {
      const stamped = {
        ...data,
        modifiedBy: await this.actorId(),
        modifiedOn: new Date(),
      } as DataObject<T>;
      return super.updateAll(stamped, this.notDeleted(where), options);
    }

    override async replaceById(
      id: ID,
      data: DataObject<T>,
      options?: Options,
    ): Promise<void> {
      const existing = await this.findById(id, undefined, options);
      const actor = await this.actorId();
      // The row becomes `data`, but who made it and when stay (the columns
      // are NOT NULL; a replace would empty them).
      return super.replaceById(
        id,
        {
          ...data,
          createdOn: existing.createdOn,
          createdBy: existing.createdBy,
          deleted: false,
          modifiedBy: actor,
          modifiedOn: new Date(),
        } as DataObject<T>,
        options,
      );
    }

    override find(filter?: Filter<T>, options?: Options) {
      return super.find(this.liveFilter(filter), options);
    }

    override findOne(filter?: Filter<T>, options?: Options) {
      return super.findOne(this.liveFilter(filter), options);
    }

    override async findById(
      id: ID,
      filter?: FilterExcludingWhere<T>,
      options?: Options,
    ): Promise<T & Relations> {
      const found = await super.findOne(
        {...(filter ?? {}), where: this.notDeleted(this.idWhere(id))},
        options,
      );
      if (!found) throw new EntityNotFoundError(this.entityClass, id);
      return found;
    }

    override count(where?: Where<T>, options?: Options): Promise<Count> {
      return super.count(this.notDeleted(where), options);
    }

    /** Whether a live row has this id: the id of at most one row read. */
    override async exists(id: ID, options?: Options): Promise<boolean> {
      const idName = this.entityClass.getIdProperties()[0];
      const found = await super.findOne(
        {
          where: this.notDeleted(this.idWhere(id)),
          fields: {[idName]: true} as Fields<T>,
        },
        options,
      );
      return found !== null;
    }

    /** Soft delete: the row stays, marked deleted, and reads skip it. */
    override async delete(entity: T, options?: Options): Promise<void> {
      return this.deleteById(entity.getId() as ID, options);
    }

    override async deleteById(id: ID, options?: Options): Promise<void> {
      const {count} = await this.deleteAll(this.idWhere(id), options);
      if (count === 0) throw new EntityNotFoundError(this.entityClass, id);
    }

    override async deleteAll(
      where?: Where<T>,
      options?: Options,
    ): Promise<Count> {
      const actor = await this.actorId();
      return super.updateAll(
        {
          deleted: true,
          deletedOn: new Date(),
          deletedBy: actor,
        } as DataObject<T>,
        this.notDeleted(where),
        options,
      );
    }

    /**
     * The live row matching `where`, created from `data` if there is none. A
     * concurrent create of the same row (a unique index says so) yields the
     * row that won.
     */
    async findOrCreate(
      where: Where<T>,
      data: DataObject<T>,
      options?: Options,
    ): Promise<T> {
      const existing = await this.findOne({where}, options);
      if (existing) return existing;
      const created = await this.createUnlessDuplicate(data, options);
      if (created) return created;
      const winner = await this.findOne({where}, options);
      if (!winner) {
        throw new Error(
          `${this.entityClass.modelName}: a unique index refused the row, yet no live row matches ${JSON.stringify(where)}.`,
        );
      }
      return winner;
    }

    /**
     * Creates the row, or gives `undefined` when a unique index already holds
     * it (say another instance recorded it first). Inside a transaction the
     * refused insert is undone alone, and the transaction goes on.
     */
    async createUnlessDuplicate(
      data: DataObject<T>,
      options?: Options,
    ): Promise<T | undefined> {
      try {
        return await withSavepoint(this.sql, options, () =>
          this.create(data, options),
        );
      } catch (err) {
        if (this.sql.dialect.isUniqueViolation(err)) return undefined;
        throw err;
      }
    }

    findWithDeleted(filter?: Filter<T>, options?: Options): Promise<T[]> {
      return super.find(filter, options);
    }

    updateAllWithDeleted(
      data: DataObject<T>,
      where?: Where<T>,
      options?: Options,
    ): Promise<Count> {
      return super.updateAll(data, where, options);
    }

    /** Removes the row for real. */
    async deleteByIdHard(id: ID, options?: Options): Promise<void> {
      return super.deleteById(id, options);
    }

    /** Removes the matching rows for real. */
    async deleteAllHard(where?: Where<T>, options?: Options): Promise<Count> {
      return super.deleteAll(where, options);
    }

    /**
     * Locks the row until the transaction in `options` ends, so writers that
     * depend on it run one after the other.
     */
    async lockById(id: ID, options: Options): Promise<void> {
      await this.sql.execute(
        this.sql.dialect.lockByIdStatement(this.entityClass),
        [id],
        options,
      );
    }

    protected idWhere(id: ID): Where<T> {
      const idName = this.entityClass.getIdProperties()[0];
      return {[idName]: id} as Where<T>;
    }
  }
  return Audited as unknown as AuditedCrudRepositoryClass;
}

/**
 * The juggler's `AuditedCrudRepository` class, for repositories of a host
 * that extend it (the service's own are defined on either base, see
 * `RepositoryBases`).
 */
export const AuditedCrudRepository: AuditedCrudRepositoryClass = auditedCrudOn(
  ServiceTableRepository,
);
