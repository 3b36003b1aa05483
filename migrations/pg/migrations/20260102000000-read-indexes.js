'use strict';
module.exports = require('../../sql-migration')(
  __dirname,
  '20260102000000-read-indexes',
);
