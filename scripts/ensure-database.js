'use strict';
// Creates the database named by DB_DATABASE when it does not exist, then runs
// the migrations: core, plus the HTTP tables when a side uses HTTP.
const {ensureDatabase} = require('../bin/task-service');
const {
  migrate,
  connectionFromEnv,
  connectorFrom,
} = require('../migrations/migrate');

async function main() {
  // PostgreSQL, or MySQL / MariaDB with DB_CONNECTOR=mysql.
  const connector = connectorFrom(process.env.DB_CONNECTOR);
  const connection = connectionFromEnv(process.env, connector);
  if (await ensureDatabase(connection, connector)) {
    console.log(`Created database ${connection.database}.`);
  }
  const usesHttp = [process.env.TASK_INCOMING, process.env.TASK_OUTGOING].some(
    side => (side || 'http').toLowerCase() === 'http',
  );
  await migrate('up', {
    sets: usesHttp ? ['core', 'http'] : ['core'],
    connector,
    connection,
  });
}

if (require.main === module) {
  main().catch(err => {
    console.error(err.message);
    process.exit(1);
  });
}
