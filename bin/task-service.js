#!/usr/bin/env node
'use strict';
/**
 * The package's command line, for the app that installs it:
 *
 *   npx loopback4-task-service migrate [up|down] [core] [http]
 *   npx loopback4-task-service dev-token [--secret S] [--expires 8h] ...
 *
 * `migrate` creates the database named by DB_DATABASE when it is missing (on
 * `up`; PostgreSQL, or MySQL / MariaDB with DB_CONNECTOR=mysql), then runs the
 * package's migrations with the same arguments as migrations/migrate.js. `dev-token` prints a bearer token with
 * every permission of the service, for development.
 */
const {spawnSync} = require('child_process');
const path = require('path');

const USAGE = `Usage:
  loopback4-task-service migrate [up|down] [core] [http]
      Creates the database when it is missing (on up), then runs the
      migrations: core (every table of the service) and http (the HTTP
      connector's tables). Without a set, core. DB_CONNECTOR picks the
      database: postgresql (default) or mysql (MySQL 8, MariaDB 10.6+).
      Connection from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_DATABASE
      (defaults 127.0.0.1, 5432 or 3306, postgres or root, none, taskdb).
  loopback4-task-service dev-token [--secret S] [--issuer I] [--expires 8h]
                                   [--user ID] [--tenant ID] [--permissions a,b]
      Prints a bearer token signed with HS256 by --secret (default: JWT_SECRET)
      holding every permission of the service (or those listed). For
      development: production tokens come from your identity provider.`;

/** Every permission key of the service's routes (PermissionKey). */
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
  '16012',
  '16013',
  '1',
  '2',
  '3',
  '4',
  '5',
];

/**
 * A development token with the claims the service reads: `id`, `username`,
 * `userTenantId`, `permissions`, and an expiry (`exp` is required).
 */
function devToken({
  secret,
  issuer,
  expiresIn = '8h',
  userId = 'dev-user',
  tenantId = 'dev-tenant',
  permissions = ALL_PERMISSIONS,
} = {}) {
  if (!secret) {
    throw new Error(
      'No signing secret: pass --secret or set JWT_SECRET to the secret the app verifies tokens with.',
    );
  }
  const jwt = require('jsonwebtoken');
  return jwt.sign(
    {id: userId, username: 'developer', userTenantId: tenantId, permissions},
    secret,
    {expiresIn, ...(issuer ? {issuer} : {})},
  );
}

/**
 * Creates the database of `connection` unless it exists: true when it made
 * it. `connector` is `postgresql` (default) or `mysql`.
 */
async function ensureDatabase(connection, connector = 'postgresql') {
  return connector === 'mysql'
    ? ensureMySqlDatabase(connection)
    : ensurePostgresDatabase(connection);
}

/** Creates the PostgreSQL database of `connection` unless it exists. */
async function ensurePostgresDatabase(connection) {
  const {Client} = require('pg');
  const admin = new Client({...connection, database: 'postgres'});
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${connection.host}:${connection.port} as ${connection.user}: ${err.message}`,
    );
  }
  try {
    const {rows} = await admin.query(
      'SELECT 1 FROM pg_database WHERE datname = $1',
      [connection.database],
    );
    if (rows.length) return false;
    try {
      await admin.query(
        `CREATE DATABASE "${connection.database.replace(/"/g, '""')}"`,
      );
    } catch (err) {
      throw new Error(
        `Database "${connection.database}" does not exist and ${connection.user} cannot create it (${err.message}). ` +
          `Create it first, or run this as a user who may.`,
      );
    }
    return true;
  } finally {
    await admin.end();
  }
}

/**
 * Creates the MySQL / MariaDB database of `connection` unless it exists, in
 * utf8mb4 with the binary collation the migrations' tables use.
 */
async function ensureMySqlDatabase(connection) {
  const mysql = require('mysql2/promise');
  const {database, ...server} = connection;
  let admin;
  try {
    admin = await mysql.createConnection(server);
  } catch (err) {
    throw new Error(
      `MySQL is not reachable at ${connection.host}:${connection.port} as ${connection.user}: ${err.message}`,
    );
  }
  try {
    const [rows] = await admin.query(
      'SELECT 1 FROM information_schema.schemata WHERE schema_name = ?',
      [database],
    );
    if (rows.length) return false;
    try {
      await admin.query(
        'CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
        [database],
      );
    } catch (err) {
      throw new Error(
        `Database "${database}" does not exist and ${connection.user} cannot create it (${err.message}). ` +
          `Create it first, or run this as a user who may.`,
      );
    }
    return true;
  } finally {
    await admin.end();
  }
}

async function migrateCommand(args) {
  const {connectionFromEnv, connectorFrom} = require('../migrations/migrate');
  const direction = args[0] ?? 'up';
  const connector = connectorFrom(process.env.DB_CONNECTOR);
  if (direction === 'up') {
    const connection = connectionFromEnv(process.env, connector);
    if (await ensureDatabase(connection, connector)) {
      console.log(`Created database ${connection.database}.`);
    }
  }
  // The runner keeps its own command line; this adds only the database.
  const run = spawnSync(
    process.execPath,
    [path.join(__dirname, '..', 'migrations', 'migrate.js'), ...args],
    {stdio: 'inherit'},
  );
  if (run.error) throw run.error;
  return run.status ?? 1;
}

function option(args, name) {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) {
    throw new Error(`--${name} needs a value`);
  }
  return value;
}

function devTokenCommand(args) {
  const permissions = option(args, 'permissions');
  console.log(
    devToken({
      secret: option(args, 'secret') ?? process.env.JWT_SECRET,
      issuer: option(args, 'issuer') ?? process.env.JWT_ISSUER,
      expiresIn: option(args, 'expires'),
      userId: option(args, 'user'),
      tenantId: option(args, 'tenant'),
      permissions: permissions
        ? permissions.split(',').map(p => p.trim())
        : undefined,
    }),
  );
  return 0;
}

async function main(argv) {
  const [command, ...args] = argv;
  switch (command) {
    case 'migrate':
      return migrateCommand(args);
    case 'dev-token':
      return devTokenCommand(args);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(
        command ? `Unknown command "${command}".\n${USAGE}` : USAGE,
      );
      return 2;
  }
}

module.exports = {devToken, ensureDatabase, ALL_PERMISSIONS};

if (require.main === module) {
  main(process.argv.slice(2)).then(
    code => process.exit(code),
    err => {
      console.error(`loopback4-task-service: ${err.message}`);
      process.exit(1);
    },
  );
}
