'use strict';
/**
 * The floor the HTTP paths are measured against: node:http, the same JWT
 * verification (HS256, issuer, expiry; the key object made once), and one
 * statement through a pg pool per request, no framework. It answers the
 * routes the benchmarks load, with the statement the service runs for each
 * and the same JSON.
 */
const http = require('http');
const {createSecretKey} = require('crypto');
const jwt = require('jsonwebtoken');
const {ready, exitOnSigterm, poolFromEnv} = require('../lib/child');
const {TASK_COLUMNS, USER_TASK_COLUMNS, EVENT_COLUMNS} = require('./columns');

// The service's pool (loopback-connector-postgresql) defaults to 10.
const pool = poolFromEnv(10);
const key = createSecretKey(Buffer.from(process.env.JWT_SECRET, 'utf8'));
const issuer = process.env.JWT_ISSUER;

function authenticate(req) {
  const header = req.headers.authorization ?? '';
  const [scheme, token] = header.split(' ');
  if (scheme !== 'Bearer' || !token) return undefined;
  try {
    const claims = jwt.verify(token, key, {algorithms: ['HS256'], issuer});
    return typeof claims === 'object' && claims.exp ? claims : undefined;
  } catch {
    return undefined;
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const routes = {
  async trigger(req) {
    const body = JSON.parse(await readBody(req));
    const payload = body.payload ?? {};
    await pool.query(
      `INSERT INTO main.events (key, description, source, payload, "timestamp")
       VALUES ($1, $2, $3, $4, $5)`,
      [
        body.key,
        body.description ?? `Task for ${body.key}`,
        body.source ?? 'http',
        JSON.stringify(payload),
        Date.now(),
      ],
    );
    return [204];
  },
  async tasks(req, url) {
    const {where = {}, limit = 100} = JSON.parse(
      url.searchParams.get('filter') ?? '{}',
    );
    const {rows} = await pool.query(
      `SELECT ${TASK_COLUMNS} FROM main.tasks
        WHERE key = $1 AND status = $2 AND deleted = false
        ORDER BY id LIMIT $3`,
      [where.key, where.status, limit],
    );
    return [200, rows];
  },
  async events(req, url) {
    const {where = {}} = JSON.parse(url.searchParams.get('filter') ?? '{}');
    const [from, to] = where.timestamp.between;
    const {rows} = await pool.query(
      `SELECT ${EVENT_COLUMNS}
         FROM main.events
        WHERE key = $1 AND "timestamp" BETWEEN $2 AND $3
        ORDER BY "timestamp" DESC, id DESC`,
      [where.key, from, to],
    );
    for (const row of rows) row.timestamp = Number(row.timestamp);
    return [200, rows];
  },
  async userTasks(req, url, taskId) {
    const {rows} = await pool.query(
      `SELECT ${USER_TASK_COLUMNS} FROM main.user_tasks
        WHERE task_id = $1 AND deleted = false ORDER BY id`,
      [taskId],
    );
    return [200, rows];
  },
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://floor');
  if (!authenticate(req)) {
    send(res, 401, {error: 'Unauthorized'});
    return;
  }
  let work;
  const userTasks = /^\/tasks\/([0-9a-f-]{36})\/user-tasks$/.exec(url.pathname);
  if (req.method === 'POST' && url.pathname === '/events/trigger') {
    work = routes.trigger(req);
  } else if (req.method === 'GET' && url.pathname === '/tasks') {
    work = routes.tasks(req, url);
  } else if (req.method === 'GET' && url.pathname === '/events') {
    work = routes.events(req, url);
  } else if (req.method === 'GET' && userTasks) {
    work = routes.userTasks(req, url, userTasks[1]);
  } else {
    send(res, 404, {error: 'Not found'});
    return;
  }
  work.then(
    ([status, body]) => send(res, status, body),
    err => send(res, 500, {error: err.message}),
  );
});
server.keepAliveTimeout = 60000;

exitOnSigterm(() => pool.end());
server.listen(0, '127.0.0.1', () => {
  ready({url: `http://127.0.0.1:${server.address().port}`});
});
