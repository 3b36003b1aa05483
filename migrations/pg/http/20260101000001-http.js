'use strict';
module.exports = require('../../sql-migration')(
  __dirname,
  '20260101000001-http',
);
