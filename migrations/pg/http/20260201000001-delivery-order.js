'use strict';
module.exports = require('../../sql-migration')(
  __dirname,
  '20260201000001-delivery-order',
);
