'use strict';
// Prints a development bearer token holding every permission of the service,
// signed with JWT_SECRET (or the example app's development secret).
//   node scripts/dev-token.js [--expires 8h] [--user id]
const jwt = require('jsonwebtoken');

const ALL_PERMISSIONS = [
  '16001',
  '16002',
  '16003',
  '16004',
  '16005',
  '16006',
  '16007',
  '16008',
  '16009',
  '16010',
  '16011',
  '1',
  '2',
  '3',
  '4',
  '5',
];

function devToken({
  secret,
  issuer,
  expiresIn = '8h',
  userId = 'dev-user',
} = {}) {
  return jwt.sign(
    {
      id: userId,
      username: 'developer',
      userTenantId: 'dev-tenant',
      permissions: ALL_PERMISSIONS,
    },
    secret || process.env.JWT_SECRET || 'task-service-development-secret',
    {
      expiresIn,
      ...(issuer || process.env.JWT_ISSUER
        ? {issuer: issuer || process.env.JWT_ISSUER}
        : {}),
    },
  );
}

module.exports = {devToken, ALL_PERMISSIONS};

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = name => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  console.log(
    devToken({
      expiresIn: opt('expires') || '8h',
      userId: opt('user') || 'dev-user',
    }),
  );
}
