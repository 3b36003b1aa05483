'use strict';
// For tools that ignore this folder's package.json.
module.exports = require('../dist/testing');
