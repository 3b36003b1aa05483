'use strict';
// `npm start`: install, build, start Camunda (and Kafka when a side uses it),
// create and migrate the database, then run the example app.
const {execSync} = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const run = command => execSync(command, {cwd: root, stdio: 'inherit'});

require('./ensure-install');
run('npm run build --silent');
const sides = [process.env.TASK_INCOMING, process.env.TASK_OUTGOING].map(s =>
  (s || 'http').toLowerCase(),
);
run(
  `bash scripts/services.sh up camunda${sides.includes('kafka') ? ' kafka' : ''}`,
);
run('node scripts/ensure-database.js');
require(path.join(root, 'sandbox', 'task-example', 'dist'))
  .main()
  .catch(err => {
    console.error(`Cannot start the task example: ${err.message}`);
    process.exit(1);
  });
