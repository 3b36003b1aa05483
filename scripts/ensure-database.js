'use strict';
// Creates the database named by DB_DATABASE when it does not exist, then runs
// the migrations: core, plus the HTTP tables when a side uses HTTP.
const {ensureDatabase} = require('../bin/task-service');
const {migrate, connectionFromEnv} = require('../migrations/migrate');

async function main() {
  const connection = connectionFromEnv();
  if (await ensureDatabase(connection)) {
    console.log(`Created database ${connection.database}.`);
  }
  const usesHttp = [process.env.TASK_INCOMING, process.env.TASK_OUTGOING].some(
    side => (side || 'http').toLowerCase() === 'http',
  );
  await migrate('up', {
    sets: usesHttp ? ['core', 'http'] : ['core'],
    connection,
  });
}

if (require.main === module) {
  main().catch(err => {
    console.error(err.message);
    process.exit(1);
  });
}
