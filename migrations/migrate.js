'use strict';
/**
 * Runs the task service's migrations with db-migrate, on PostgreSQL or MySQL.
 *
 *   node migrations/migrate.js up|down [core|http ...]
 *
 * DB_CONNECTOR picks the database: `postgresql` (default, migrations/pg) or
 * `mysql` (MySQL 8 or MariaDB, migrations/mysql). Connection from DB_HOST,
 * DB_PORT (5432 or 3306), DB_USER (postgres or root), DB_PASSWORD and
 * DB_DATABASE. `up` runs the named sets in order (default: core); `down`
 * undoes them in reverse order. Each set keeps its own db-migrate table, so
 * the HTTP tables can be added or removed without touching the core ones.
 */
const path = require('path');

const CONNECTORS = {
  postgresql: {
    folder: 'pg',
    driver: 'pg',
    defaults: {port: 5432, user: 'postgres'},
    options: {},
  },
  mysql: {
    folder: 'mysql',
    driver: 'mysql',
    defaults: {port: 3306, user: 'root'},
    // A migration file holds several statements.
    options: {multipleStatements: true},
  },
};

function setsOf(connector) {
  const folder = path.join(__dirname, CONNECTORS[connector].folder);
  return {
    core: {dir: path.join(folder, 'migrations'), table: 'migrations'},
    http: {dir: path.join(folder, 'http'), table: 'migrations_http'},
  };
}

/** The PostgreSQL sets, as this module has always exported them. */
const SETS = setsOf('postgresql');

/** `postgresql` when unset; throws on a name it does not know. */
function connectorFrom(value) {
  const name = String(value || 'postgresql').toLowerCase();
  if (!CONNECTORS[name]) {
    throw new Error(
      `Unknown DB_CONNECTOR "${value}": use ${Object.keys(CONNECTORS).join(' or ')}`,
    );
  }
  return name;
}

function connectionFromEnv(
  env = process.env,
  connector = connectorFrom(env.DB_CONNECTOR),
) {
  const {defaults} = CONNECTORS[connectorFrom(connector)];
  return {
    host: env.DB_HOST || '127.0.0.1',
    port: Number(env.DB_PORT || defaults.port),
    user: env.DB_USER || defaults.user,
    password: env.DB_PASSWORD || undefined,
    database: env.DB_DATABASE || 'taskdb',
  };
}

function instance(connector, set, connection) {
  const DBMigrate = require('db-migrate');
  const {driver, options} = CONNECTORS[connector];
  return DBMigrate.getInstance(true, {
    cwd: __dirname,
    env: connector,
    config: {[connector]: {driver, ...options, ...connection}},
    cmdOptions: {
      'migrations-dir': set.dir,
      table: set.table,
    },
    throwUncatched: true,
  });
}

/**
 * @param {'up'|'down'} direction
 * @param {{sets?: string[], connection?: object, silent?: boolean,
 *   connector?: 'postgresql'|'mysql'}} [options] `connector` defaults to
 *   DB_CONNECTOR, `connection` to the DB_* variables.
 */
async function migrate(direction, options = {}) {
  if (direction !== 'up' && direction !== 'down') {
    throw new Error(`Unknown direction "${direction}": use up or down`);
  }
  const connector = connectorFrom(
    options.connector ?? process.env.DB_CONNECTOR,
  );
  const available = setsOf(connector);
  const sets = options.sets || ['core'];
  for (const set of sets) {
    if (!available[set]) throw new Error(`Unknown migration set "${set}"`);
  }
  const connection =
    options.connection || connectionFromEnv(process.env, connector);
  const ordered = direction === 'down' ? [...sets].reverse() : sets;
  for (const set of ordered) {
    const dbm = instance(connector, available[set], connection);
    if (options.silent) dbm.silence(true);
    if (direction === 'up') await dbm.up();
    else await dbm.reset();
  }
}

module.exports = {
  migrate,
  connectionFromEnv,
  connectorFrom,
  setsOf,
  SETS,
  CONNECTORS: Object.keys(CONNECTORS),
};

if (require.main === module) {
  const [direction = 'up', ...sets] = process.argv.slice(2);
  migrate(direction, {sets: sets.length ? sets : undefined}).catch(err => {
    console.error(`Migration ${direction} failed: ${err.message}`);
    process.exit(1);
  });
}
