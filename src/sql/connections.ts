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
