'use strict';
/**
 * The service under test (the example app in a child process) and the
 * bearer token the load carries.
 */
const jwt = require('jsonwebtoken');
const {env} = require('./env');
const {startChild} = require('./proc');

/** Every permission of the service: the routes check them, the load passes. */
const PERMISSIONS = [
  '1',
  '2',
  '3',
  '4',
  '5',
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
];

function bearer() {
  const token = jwt.sign(
    {id: 'bench-user', username: 'bench', permissions: PERMISSIONS},
    env.jwt.secret,
    {issuer: env.jwt.issuer, expiresIn: '6h'},
  );
  return `Bearer ${token}`;
}

/** What the floor and the service share: the database and the JWT settings. */
function commonEnv(db) {
  return {
    ...db.appEnv(),
    JWT_SECRET: env.jwt.secret,
    JWT_ISSUER: env.jwt.issuer,
  };
}

/**
 * Starts the example app on `db`: HTTP connectors unless `overrides` say
 * otherwise, its own engine tenant (the database name), and a trigger rate
 * limit no benchmark reaches (the limiter still runs on every request).
 */
function startService(db, overrides = {}) {
  return startChild(
    'app',
    {
      ...commonEnv(db),
      PORT: '0',
      HOST: '127.0.0.1',
      CAMUNDA_URL: env.camundaUrl,
      CAMUNDA_TENANT_ID: db.name,
      TASK_INCOMING: 'http',
      TASK_OUTGOING: 'http',
      RATE_LIMIT_TRIGGER: '100000000/1',
      // Logs as a deployment writes them: JSON lines, level info.
      NODE_ENV: 'production',
      LOG_FORMAT: 'json',
      KAFKA_SERVER: env.kafkaBrokers.join(','),
      ...overrides,
    },
    {name: 'service'},
  );
}

function startFloor(db) {
  return startChild('floor', commonEnv(db), {name: 'floor'});
}

/** LoopBack's REST layer alone (no auth, no database per request), on `db`'s rows. */
function startLoopbackAlone(db) {
  return startChild('loopback-alone', db.appEnv(), {name: 'LoopBack alone'});
}

module.exports = {
  bearer,
  commonEnv,
  startService,
  startFloor,
  startLoopbackAlone,
  PERMISSIONS,
};
