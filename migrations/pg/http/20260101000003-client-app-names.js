'use strict';
module.exports = require('../../sql-migration')(
  __dirname,
  '20260101000003-client-app-names',
);
