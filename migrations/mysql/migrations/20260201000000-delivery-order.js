'use strict';
module.exports = require('../../sql-migration')(
  __dirname,
  '20260201000000-delivery-order',
);
