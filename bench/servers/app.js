'use strict';
/**
 * The service as a user runs it: the example app (sandbox/task-example),
 * configured only by its environment, in a process of its own.
 */
const path = require('path');
const {ready} = require('../lib/child');

// The example app stops itself on SIGTERM; this one only reports when it is up.
require(path.resolve(__dirname, '../../sandbox/task-example/dist'))
  .main()
  .then(app => ready({url: app.restServer.url}))
  .catch(err => {
    console.error(`Cannot start the example app: ${err.stack}`);
    process.exit(1);
  });
