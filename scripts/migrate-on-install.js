'use strict';
/**
 * The package's postinstall, as the original's:
 * - TASK_SERVICE_MIGRATION (or SOURCELOOP_MIGRATION) set: run the migrations
 *   against DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_DATABASE, on the database
 *   DB_CONNECTOR names (`postgresql`, the default, or `mysql`). The value may
 *   name the sets (`core` or `core,http`); `true` or any other value runs both.
 * - TASK_SERVICE_MIGRATION_COPY set: copy the migrations folder into the
 *   installing project, at migrations/task-service.
 * Without either it does nothing.
 */
const fs = require('fs');
const path = require('path');

const KNOWN_SETS = ['core', 'http'];

function setsFrom(value) {
  const named = String(value)
    .split(',')
    .map(s => s.trim())
    .filter(s => KNOWN_SETS.includes(s));
  return named.length ? named : KNOWN_SETS;
}

async function main(env = process.env) {
  const migration = env.TASK_SERVICE_MIGRATION ?? env.SOURCELOOP_MIGRATION;
  if (env.TASK_SERVICE_MIGRATION_COPY) {
    const target = path.join(
      env.INIT_CWD ?? process.cwd(),
      'migrations',
      'task-service',
    );
    fs.cpSync(path.join(__dirname, '..', 'migrations'), target, {
      recursive: true,
    });
    console.log(`loopback4-task-service: migrations copied to ${target}`);
  }
  if (migration) {
    const {
      migrate,
      connectorFrom,
      connectionFromEnv,
    } = require('../migrations/migrate');
    const sets = setsFrom(migration);
    const connector = connectorFrom(env.DB_CONNECTOR);
    await migrate('up', {
      sets,
      connector,
      connection: connectionFromEnv(env, connector),
    });
    console.log(
      `loopback4-task-service: ${connector} migrations (${sets.join(', ')}) are up to date`,
    );
  }
}

module.exports = {main, setsFrom};

if (require.main === module) {
  main().catch(err => {
    console.error(
      `loopback4-task-service: migration on install failed: ${err.message}`,
    );
    process.exit(1);
  });
}
