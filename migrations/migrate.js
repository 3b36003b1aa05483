'use strict';
/**
 * Runs the task service's PostgreSQL migrations with db-migrate.
 *
 *   node migrations/migrate.js up|down [core|http ...]
 *
 * Connection from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_DATABASE.
 * `up` runs the named sets in order (default: core); `down` undoes them in
 * reverse order. Each set keeps its own db-migrate table, so the HTTP tables
 * can be added or removed without touching the core ones.
 */
const path = require('path');

const SETS = {
  core: {dir: path.join(__dirname, 'pg', 'migrations'), table: 'migrations'},
  http: {dir: path.join(__dirname, 'pg', 'http'), table: 'migrations_http'},
};

function connectionFromEnv(env = process.env) {
  return {
    host: env.DB_HOST || '127.0.0.1',
    port: Number(env.DB_PORT || 5432),
    user: env.DB_USER || 'postgres',
    password: env.DB_PASSWORD || undefined,
    database: env.DB_DATABASE || 'taskdb',
  };
}

function instance(set, connection) {
  const DBMigrate = require('db-migrate');
  return DBMigrate.getInstance(true, {
    cwd: __dirname,
    env: 'pg',
    config: {pg: {driver: 'pg', ...connection}},
    cmdOptions: {
      'migrations-dir': SETS[set].dir,
      table: SETS[set].table,
    },
    throwUncatched: true,
  });
}

/**
 * @param {'up'|'down'} direction
 * @param {{sets?: string[], connection?: object, silent?: boolean}} [options]
 */
async function migrate(direction, options = {}) {
  const sets = options.sets || ['core'];
  for (const set of sets) {
    if (!SETS[set]) throw new Error(`Unknown migration set "${set}"`);
  }
  const connection = options.connection || connectionFromEnv();
  const ordered = direction === 'down' ? [...sets].reverse() : sets;
  for (const set of ordered) {
    const dbm = instance(set, connection);
    if (options.silent) dbm.silence(true);
    if (direction === 'up') await dbm.up();
    else if (direction === 'down') await dbm.reset();
    else throw new Error(`Unknown direction "${direction}": use up or down`);
  }
}

module.exports = {migrate, connectionFromEnv, SETS};

if (require.main === module) {
  const [direction = 'up', ...sets] = process.argv.slice(2);
  migrate(direction, {sets: sets.length ? sets : undefined}).catch(err => {
    console.error(`Migration ${direction} failed: ${err.message}`);
    process.exit(1);
  });
}
