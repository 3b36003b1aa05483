'use strict';
module.exports = require('../../sql-migration')(
  __dirname,
  '20260301000000-outbox-heads',
);
