'use strict';
/**
 * The side of a benchmark's child process (the service, a floor server, a
 * bare worker, ...): answers the parent's requests over IPC, starts and
 * stops a CPU profile on request (so start-up is not in it), and exits on
 * SIGTERM or when the parent goes away.
 */
const fs = require('fs');
const inspector = require('inspector');
const path = require('path');

const handlers = new Map();
let session;

function post(method, params) {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err, result) =>
      err ? reject(err) : resolve(result),
    ),
  );
}

handlers.set('profile-start', async () => {
  session ??= new inspector.Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', {interval: 500});
  await post('Profiler.start');
  return {};
});

handlers.set('profile-stop', async ({file}) => {
  const {profile} = await post('Profiler.stop');
  await post('Profiler.disable');
  session.disconnect();
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, JSON.stringify(profile));
  return {file};
});

let collect;
/** A full garbage collection, so memory figures compare like with like. */
function fullGc() {
  if (!collect) {
    require('v8').setFlagsFromString('--expose-gc');
    collect = require('vm').runInNewContext('gc');
  }
  collect();
}

handlers.set('usage', async ({gc}) => {
  if (gc) fullGc();
  return usage();
});

const usage = () => ({
  cpu: process.cpuUsage(),
  rss: process.memoryUsage().rss,
  heapUsed: process.memoryUsage().heapUsed,
});

/** `handler(payload)` answers the parent's request of `type`. */
function onRequest(type, handler) {
  handlers.set(type, handler);
}

/** Tells the parent the child is up, with what it needs to know (say its URL). */
function ready(info) {
  process.send?.({type: 'ready', ...info});
}

process.on('message', msg => {
  if (!msg || typeof msg !== 'object' || msg.id === undefined) return;
  const handler = handlers.get(msg.type);
  if (!handler) {
    process.send?.({id: msg.id, error: `no handler for ${msg.type}`});
    return;
  }
  Promise.resolve()
    .then(() => handler(msg.payload ?? {}))
    .then(
      result => process.send?.({id: msg.id, result}),
      err => process.send?.({id: msg.id, error: err.stack ?? String(err)}),
    );
});

// The parent died: nothing will stop this process otherwise.
process.on('disconnect', () => process.exit(0));

/** SIGTERM runs `stop` (if given) and exits. */
function exitOnSigterm(stop) {
  process.once('SIGTERM', () => {
    Promise.resolve(stop?.())
      .catch(err => console.error(err))
      .finally(() => process.exit(0));
  });
}

/** A pg pool on the database the parent named (DB_HOST, DB_PORT, ...). */
function poolFromEnv(max) {
  const {Pool} = require('pg');
  return new Pool({
    host: process.env.DB_HOST,
    port: Number(process.env.DB_PORT),
    user: process.env.DB_USER,
    password: process.env.DB_PASSWORD,
    database: process.env.DB_DATABASE,
    max,
  });
}

module.exports = {onRequest, ready, exitOnSigterm, poolFromEnv};
