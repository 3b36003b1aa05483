'use strict';
// Shared body of every migration (PostgreSQL and MySQL): run
// `sqls/<name>-up.sql` or `-down.sql` next to the migration file.
const fs = require('fs');
const path = require('path');

module.exports = function sqlMigration(dir, name) {
  const run = direction => db => {
    const file = path.join(dir, 'sqls', `${name}-${direction}.sql`);
    return db.runSql(fs.readFileSync(file, 'utf8'));
  };
  return {up: run('up'), down: run('down'), _meta: {version: 1}};
};
