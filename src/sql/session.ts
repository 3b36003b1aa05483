import {juggler, Options} from '@loopback/repository';
import {SequelizeDataSource} from '@loopback/sequelize';
import {guardDroppedConnections, portableMySqlRegexp} from './connections';
import {sqlDialectOf} from './dialect';
import {SqlDialect} from './types';

/**
 * A datasource the service's repositories and stores run on: a juggler
 * datasource (`loopback-connector-postgresql` / `-mysql`) or, with
 * `useSequelize`, a `SequelizeDataSource` of `@loopback/sequelize`.
 */
export type TaskDataSource = juggler.DataSource | SequelizeDataSource;

/** A database transaction, carried to statements as `options.transaction`. */
export interface SqlTransaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * What the service's raw SQL needs of a datasource, whatever ORM made it:
 * its dialect, statements run inside the transaction of `options` when it
 * has one, and new transactions. Results come in the shape the juggler
 * connectors give (see `rowsOf`, `affectedCount`), on either ORM.
 */
export interface SqlSession {
  /** The datasource's name, for messages. */
  readonly name: string;
  readonly dialect: SqlDialect;
  execute(sql: string, params?: unknown[], options?: Options): Promise<unknown>;
  beginTransaction(): Promise<SqlTransaction>;
}

/** Statements on a juggler datasource: its connector's `execute` and transactions. */
class JugglerSession implements SqlSession {
  readonly dialect: SqlDialect;

  constructor(private readonly dataSource: juggler.DataSource) {
    this.dialect = sqlDialectOf(dataSource);
    portableMySqlRegexp(dataSource);
  }

  get name(): string {
    return this.dataSource.name;
  }

  execute(sql: string, params: unknown[] = [], options?: Options) {
    // A dropped connection must fail its statement, not the process.
    guardDroppedConnections(this.dataSource);
    return this.dataSource.execute(sql, params, options);
  }

  async beginTransaction(): Promise<SqlTransaction> {
    guardDroppedConnections(this.dataSource);
    // The connector's own transaction: the one its `execute` and the
    // repositories recognise in `options.transaction`.
    return this.dataSource.beginTransaction({}) as Promise<SqlTransaction>;
  }
}

/** A driver connection as Sequelize holds it: pg's `Client` or mysql2's `Connection`. */
interface DriverConnection {
  query(
    sql: string,
    params: unknown[],
    callback: (err: Error | null, result: unknown) => void,
  ): unknown;
}

/** What pg reports of a statement. */
interface PgResult {
  command?: string;
  rowCount?: number | null;
  rows?: unknown[];
}

/**
 * Statements on a `SequelizeDataSource`, run on the driver connection that
 * Sequelize holds for the transaction of `options` (else one from its pool):
 * parameters go to the driver as they do from the juggler connectors
 * (`$1` to pg, `?` to mysql2), with no rewriting of the SQL by Sequelize,
 * and results are shaped as the juggler connectors shape them.
 */
class SequelizeSession implements SqlSession {
  readonly dialect: SqlDialect;

  constructor(private readonly dataSource: SequelizeDataSource) {
    this.dialect = sqlDialectOf(dataSource);
  }

  get name(): string {
    return this.dataSource.name ?? String(this.dataSource.config.name);
  }

  async execute(sql: string, params: unknown[] = [], options?: Options) {
    const transaction = options?.transaction as
      {connection?: DriverConnection} | undefined;
    if (transaction) {
      if (!transaction.connection) {
        throw new Error(
          `The transaction given to a statement on ${this.name} is not a Sequelize transaction of it.`,
        );
      }
      return this.run(transaction.connection, sql, params);
    }
    const manager = this.dataSource.sequelize.connectionManager;
    const connection = (await manager.getConnection({
      type: 'write',
    })) as unknown as DriverConnection;
    try {
      return await this.run(connection, sql, params);
    } finally {
      manager.releaseConnection(connection as never);
    }
  }

  async beginTransaction(): Promise<SqlTransaction> {
    return this.dataSource.beginTransaction();
  }

  private async run(
    connection: DriverConnection,
    sql: string,
    params: unknown[],
  ): Promise<unknown> {
    const result = await new Promise<unknown>((resolve, reject) => {
      connection.query(sql, params, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
    if (this.dialect.name !== 'postgresql') return result;
    // As loopback-connector-postgresql hands results over.
    const pg = result as PgResult;
    if (pg.command === 'UPDATE' || pg.command === 'DELETE') {
      const count = pg.rowCount ?? 0;
      return {affectedRows: count, count, rows: pg.rows};
    }
    return pg.rows;
  }
}

/**
 * Whether the datasource is a `SequelizeDataSource` (by its shape, so that a
 * host's own copy of `@loopback/sequelize` counts too).
 */
export function isSequelizeDataSource(
  dataSource: TaskDataSource,
): dataSource is SequelizeDataSource {
  const candidate = dataSource as Partial<SequelizeDataSource>;
  return (
    typeof candidate.sequelizeConfig === 'object' &&
    typeof candidate.sequelize?.query === 'function'
  );
}

const sessions = new WeakMap<object, SqlSession>();

/**
 * The SQL session of a datasource, made once per datasource: the one place
 * that tells the ORMs apart below the repositories.
 */
export function sqlSessionOf(dataSource: TaskDataSource): SqlSession {
  let session = sessions.get(dataSource);
  if (!session) {
    session = isSequelizeDataSource(dataSource)
      ? new SequelizeSession(dataSource)
      : new JugglerSession(dataSource);
    sessions.set(dataSource, session);
  }
  return session;
}
