'use strict';
/**
 * The service as a user runs it: the example app (sandbox/task-example),
 * configured only by its environment, in a process of its own.
 */
const path = require('path');
const {onRequest, ready} = require('../lib/child');

// The example app stops itself on SIGTERM; this one only reports when it is up.
require(path.resolve(__dirname, '../../sandbox/task-example/dist'))
  .main()
  .then(app => {
    // A benchmark that wrote to the outbox itself wakes the relay as a
    // command's commit does (`EventOutbox.relaySoon`).
    onRequest('relay-soon', async () => {
      (await app.get('services.EventOutbox')).relaySoon();
      return {};
    });
    ready({url: app.restServer.url});
  })
  .catch(err => {
    console.error(`Cannot start the example app: ${err.stack}`);
    process.exit(1);
  });
