'use strict';
// Creates the database named by DB_DATABASE when it does not exist, then runs
// the migrations: core, plus the HTTP tables when a side uses HTTP.
const {Client} = require('pg');
const {migrate, connectionFromEnv} = require('../migrations/migrate');

async function ensureDatabase(connection) {
  const admin = new Client({...connection, database: 'postgres'});
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${connection.host}:${connection.port} as ${connection.user}: ${err.message}`,
    );
  }
  try {
    const {rows} = await admin.query(
      'SELECT 1 FROM pg_database WHERE datname = $1',
      [connection.database],
    );
    if (!rows.length) {
      await admin.query(
        `CREATE DATABASE "${connection.database.replace(/"/g, '""')}"`,
      );
      console.log(`Created database ${connection.database}.`);
    }
  } finally {
    await admin.end();
  }
}

async function main() {
  const connection = connectionFromEnv();
  await ensureDatabase(connection);
  const usesHttp = [process.env.TASK_INCOMING, process.env.TASK_OUTGOING].some(
    side => (side || 'http').toLowerCase() === 'http',
  );
  await migrate('up', {
    sets: usesHttp ? ['core', 'http'] : ['core'],
    connection,
  });
}

module.exports = {ensureDatabase};

if (require.main === module) {
  main().catch(err => {
    console.error(err.message);
    process.exit(1);
  });
}
