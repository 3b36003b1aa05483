'use strict';
// `npm run dev-token`: a development token for the example app, signed with
// JWT_SECRET or, when it is not set, the example app's development secret.
//   node scripts/dev-token.js [--expires 8h] [--user id]
const {devToken, ALL_PERMISSIONS} = require('../bin/task-service');

/** The example app's secret when JWT_SECRET is not set (sandbox/task-example). */
const EXAMPLE_DEV_SECRET = 'task-service-development-secret';

function exampleDevToken(options = {}) {
  return devToken({
    secret: process.env.JWT_SECRET || EXAMPLE_DEV_SECRET,
    issuer: process.env.JWT_ISSUER,
    ...options,
  });
}

module.exports = {devToken: exampleDevToken, ALL_PERMISSIONS};

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = name => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  console.log(
    exampleDevToken({expiresIn: opt('expires'), userId: opt('user')}),
  );
}
