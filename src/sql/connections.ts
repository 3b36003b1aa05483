import {juggler} from '@loopback/repository';
import {EventEmitter} from 'events';

const guardedPools = new WeakSet<object>();
const guardedClients = new WeakSet<object>();

/**
 * Keeps a dropped PostgreSQL connection from ending the process. A client
 * whose connection drops emits 'error'; pg-pool listens only while the
 * client is idle, and loopback-connector-postgresql removes every 'error'
 * listener of a client after each query outside a transaction, the pool's
 * included. Unheard, that 'error' is thrown and the process dies when the
 * database restarts or the network blips. Each client of the datasource's
 * pool therefore drops an 'error' nobody listens to: the statement running
 * on it fails with the cause, and a dead idle client fails its next
 * statement, which removes it from the pool. No-op for other connectors.
 */
export function guardDroppedConnections(dataSource: juggler.DataSource): void {
  const pool = (
    dataSource.connector as {pg?: Partial<EventEmitter>} | undefined
  )?.pg;
  if (!pool?.on || guardedPools.has(pool)) return;
  guardedPools.add(pool);
  const guard = (client: EventEmitter) => {
    if (guardedClients.has(client)) return;
    guardedClients.add(client);
    const emit = client.emit.bind(client);
    client.emit = (event: string | symbol, ...args: unknown[]) =>
      event === 'error' && client.listenerCount('error') === 0
        ? false
        : emit(event, ...args);
  };
  // An idle client whose connection drops is removed by the pool, which
  // then emits the error on itself: unheard, that ends the process too.
  pool.on('error', () => {
    // The pool makes a new connection for the next statement.
  });
  pool.on('connect', guard);
  pool.on('acquire', guard);
  // Clients made before this call, idle in the pool now.
  const idle = (pool as {_clients?: EventEmitter[]})._clients;
  idle?.forEach(guard);
}

const regexpPortable = new WeakSet<object>();

interface MySqlConnector {
  buildExpression?(
    columnName: string,
    operator: string,
    operatorValue: unknown,
    propertyDefinition: unknown,
  ): unknown;
}

/**
 * Lets a `regexp` filter run on MariaDB as on MySQL 8.
 * loopback-connector-mysql writes it as `REGEXP_LIKE(column, ?, flags)`,
 * a function MariaDB does not have, so every such filter failed there
 * with a 500. `column REGEXP ?` is the same test on both (MySQL 8's ICU and
 * MariaDB's PCRE), and both read the flags inline: `(?i)`, `(?-i)` for
 * a case-sensitive match (the `c` REGEXP_LIKE was given), `(?m)`. No-op for
 * other connectors.
 */
export function portableMySqlRegexp(dataSource: juggler.DataSource): void {
  const connector = dataSource.connector as MySqlConnector | undefined;
  const build = connector?.buildExpression;
  if (
    !connector ||
    !build ||
    dataSource.connector?.name !== 'mysql' ||
    regexpPortable.has(connector)
  ) {
    return;
  }
  const ParameterizedSQL = parameterizedSqlOf(connector);
  if (!ParameterizedSQL) return;
  regexpPortable.add(connector);
  connector.buildExpression = function (
    columnName,
    operator,
    operatorValue,
    propertyDefinition,
  ) {
    if (operator !== 'regexp' || !(operatorValue instanceof RegExp)) {
      return build.call(
        this,
        columnName,
        operator,
        operatorValue,
        propertyDefinition,
      );
    }
    const flags =
      (operatorValue.ignoreCase ? '(?i)' : '(?-i)') +
      (operatorValue.multiline ? '(?m)' : '');
    return new ParameterizedSQL(`${columnName} REGEXP ?`, [
      flags + operatorValue.source,
    ]);
  };
}

type ParameterizedSqlClass = new (sql: string, params: unknown[]) => unknown;

/**
 * The `ParameterizedSQL` class of the connector's own `loopback-connector`
 * (its SQL base class carries it; several versions may be installed).
 */
function parameterizedSqlOf(
  connector: object,
): ParameterizedSqlClass | undefined {
  for (
    let proto = Object.getPrototypeOf(connector) as object | null;
    proto;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    const ctor = (proto as {constructor?: {ParameterizedSQL?: unknown}})
      .constructor;
    if (typeof ctor?.ParameterizedSQL === 'function') {
      return ctor.ParameterizedSQL as ParameterizedSqlClass;
    }
  }
  return undefined;
}
