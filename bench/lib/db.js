'use strict';
/**
 * PostgreSQL for the benchmarks: scratch databases (migrated, dropped at the
 * end) and the seeded read database (kept between runs while it is intact).
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const {Client, Pool} = require('pg');
const {env} = require('./env');
const {migrate} = require('../../migrations/migrate.js');

async function adminQuery(sql, params = [], database = 'postgres') {
  const client = new Client({...env.pg, database});
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${env.pg.host}:${env.pg.port} as ${env.pg.user} (${err.message}); start it, or set BENCH_DB_HOST/PORT/USER/PASSWORD`,
    );
  }
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

class BenchDatabase {
  constructor(name) {
    this.name = name;
    this.connection = {...env.pg, database: name};
    this.pool = new Pool({...this.connection, max: 4});
    this.pool.on('error', () => {});
  }

  async query(sql, params = []) {
    return (await this.pool.query(sql, params)).rows;
  }

  /** The example app's environment for this database. */
  appEnv() {
    return {
      DB_HOST: env.pg.host,
      DB_PORT: String(env.pg.port),
      DB_USER: env.pg.user,
      ...(env.pg.password ? {DB_PASSWORD: env.pg.password} : {}),
      DB_DATABASE: this.name,
      DB_SCHEMA: 'main',
    };
  }

  async close() {
    await this.pool.end();
  }

  /** Drops the database once every client has gone (forced after 10 s). */
  async drop() {
    await this.close();
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      try {
        await adminQuery(`DROP DATABASE IF EXISTS ${this.name}`);
        return;
      } catch (err) {
        if (err.code !== '55006') throw err;
        await new Promise(r => setTimeout(r, 100));
      }
    }
    await adminQuery(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

/** A new database with the core and HTTP migrations, for one benchmark. */
async function scratchDatabase(bench) {
  const name = `task_bench_${bench.replace(/\W/g, '_')}_${crypto.randomBytes(3).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  await migrate('up', {
    sets: ['core', 'http'],
    connection: {...env.pg, database: name},
    connector: 'postgresql',
    silent: true,
  });
  return new BenchDatabase(name);
}

// ---------------------------------------------------------------- reads --

const READS_DB = process.env.BENCH_READS_DB ?? 'task_bench_reads';
const ROWS = Number(process.env.BENCH_READ_ROWS ?? 1_000_000);
/** Distinct task keys and event keys; each key holds ROWS / KEYS rows. */
const KEYS = 1000;
/** Tasks with user tasks, and user tasks per such task. */
const USER_TASKS_PER_TASK = 5;
/** Events of one key are this many ms apart. */
const EVENT_SPACING_MS = 60_000;
const EVENT_T0 = Date.UTC(2026, 0, 1);
const STATUSES = ['pending', 'in progress', 'completed'];

const SEED_SQL = `
INSERT INTO main.tasks (key, name, description, status, priority, severity,
                        type, metadata, created_on, modified_on, created_by,
                        modified_by, deleted)
SELECT 'key-' || (g % ${KEYS}),
       'Task ' || g,
       'Seeded task ' || g || ' of the read benchmark',
       (ARRAY['${STATUSES.join("','")}'])[1 + (g / ${KEYS}) % 3],
       (ARRAY['low','medium','high'])[1 + g % 3],
       (ARRAY['low','medium','high'])[1 + (g / 7) % 3],
       'review',
       json_build_object('n', g, 'origin', 'bench'),
       timestamptz '2026-01-01' + g * interval '1 second',
       timestamptz '2026-01-01' + g * interval '1 second',
       'bench', 'bench',
       g % 100 = 0
  FROM generate_series(1, $1::int) g;

INSERT INTO main.user_tasks (task_id, name, status, external_id, created_by,
                             modified_by)
SELECT t.id, 'Step ' || s, CASE WHEN s < 3 THEN 'completed' ELSE 'pending' END,
       t.id || ':' || s, 'bench', 'bench'
  FROM (SELECT id FROM main.tasks WHERE NOT deleted
         ORDER BY created_on LIMIT $1::int / ${USER_TASKS_PER_TASK}) t
 CROSS JOIN generate_series(1, ${USER_TASKS_PER_TASK}) s;

INSERT INTO main.events (key, description, source, payload, "timestamp")
SELECT 'event-' || (g % ${KEYS}), 'Seeded event ' || g, 'bench',
       json_build_object('n', g, 'orderId', 'order-' || g, 'amount', g % 1000),
       ${EVENT_T0}::bigint + g::bigint * ${EVENT_SPACING_MS / KEYS}
  FROM generate_series(1, $1::int) g;
`;

/** What the cached read database must have been made from. */
function readsFingerprint() {
  const hash = crypto.createHash('sha256');
  hash.update(SEED_SQL);
  hash.update(String(ROWS));
  for (const dir of ['migrations/pg/migrations', 'migrations/pg/http']) {
    const sqls = path.join(env.root, dir, 'sqls');
    for (const file of fs.readdirSync(sqls).sort()) {
      hash.update(file);
      hash.update(fs.readFileSync(path.join(sqls, file)));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The read database: ROWS tasks, ROWS user tasks and ROWS events, seeded in
 * bulk. It is kept between runs (only reads run on it) and used again only
 * when its fingerprint (seed SQL, row count, every migration file) and its
 * row counts match; otherwise it is dropped and seeded anew.
 * BENCH_RESEED=1 always seeds anew.
 */
async function readsDatabase() {
  const fingerprint = readsFingerprint();
  const exists = await adminQuery(
    'SELECT 1 FROM pg_database WHERE datname = $1',
    [READS_DB],
  );
  if (exists.length && process.env.BENCH_RESEED !== '1') {
    const db = new BenchDatabase(READS_DB);
    try {
      const [row] = await db.query(
        `SELECT s.fingerprint,
                (SELECT count(*) FROM main.tasks)::int AS tasks,
                (SELECT count(*) FROM main.user_tasks)::int AS user_tasks,
                (SELECT count(*) FROM main.events)::int AS events
           FROM main.bench_seed s`,
      );
      if (
        row?.fingerprint === fingerprint &&
        row.tasks === ROWS &&
        row.user_tasks === ROWS &&
        row.events === ROWS
      ) {
        console.log(
          `   read database ${READS_DB}: kept from an earlier run (fingerprint ${fingerprint}, ${ROWS} rows per table)`,
        );
        return db;
      }
    } catch {
      // No seed record: seeded by nothing we know, so seed it anew.
    }
    await db.drop();
  } else if (exists.length) {
    await new BenchDatabase(READS_DB).drop();
  }
  const started = Date.now();
  await adminQuery(`CREATE DATABASE ${READS_DB}`);
  await migrate('up', {
    sets: ['core', 'http'],
    connection: {...env.pg, database: READS_DB},
    connector: 'postgresql',
    silent: true,
  });
  const db = new BenchDatabase(READS_DB);
  const client = await db.pool.connect();
  try {
    for (const statement of SEED_SQL.split(';').filter(s => s.trim())) {
      await client.query(statement, [ROWS]);
    }
    await client.query('VACUUM ANALYZE main.tasks');
    await client.query('VACUUM ANALYZE main.user_tasks');
    await client.query('VACUUM ANALYZE main.events');
    await client.query(
      'CREATE TABLE main.bench_seed (fingerprint text NOT NULL, seeded_on timestamptz NOT NULL DEFAULT now())',
    );
    await client.query(
      'INSERT INTO main.bench_seed (fingerprint) VALUES ($1)',
      [fingerprint],
    );
  } finally {
    client.release();
  }
  console.log(
    `   read database ${READS_DB}: seeded ${ROWS} tasks, user tasks and events in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return db;
}

module.exports = {
  adminQuery,
  scratchDatabase,
  readsDatabase,
  READ_SHAPE: {
    rows: ROWS,
    keys: KEYS,
    statuses: STATUSES,
    eventT0: EVENT_T0,
    eventSpacingMs: EVENT_SPACING_MS,
    userTasksPerTask: USER_TASKS_PER_TASK,
  },
};

if (require.main === module && process.argv[2] === 'drop-reads') {
  new BenchDatabase(READS_DB).drop().then(
    () => console.log(`Dropped ${READS_DB}`),
    err => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
