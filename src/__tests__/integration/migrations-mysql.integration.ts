import {juggler} from '@loopback/repository';
import {expect} from '@loopback/testlab';
import {execFile} from 'child_process';
import {randomUUID} from 'crypto';
import {once} from 'events';
import path from 'path';
import {promisify} from 'util';
import {TestDatabase} from '../fixtures/database';
import {MYSQL_ADMIN, MySqlTestDatabase} from '../fixtures/mariadb';

const ROOT = path.resolve(__dirname, '../../..');
// The migrations runner is plain JavaScript so it also works at install time.
const {connectionFromEnv, connectorFrom} =
  require('../../../migrations/migrate.js') as {
    connectionFromEnv(env: NodeJS.ProcessEnv): object;
    connectorFrom(value: string | undefined): string;
  };

const CORE_TABLES = [
  'command_runs',
  'event_receipts',
  'event_workflow_runs',
  'event_workflows',
  'events',
  'outbox_event_keys',
  'outbox_events',
  'task_starts',
  'task_workflows',
  'tasks',
  'user_tasks',
  'workflow_versions',
  'workflows',
];
const HTTP_TABLES = [
  'client_apps',
  'webhook_deliveries',
  'webhook_delivery_attempts',
  'webhook_delivery_keys',
  'webhook_subscriptions',
];
const ALL_TABLES = [...CORE_TABLES, ...HTTP_TABLES].sort();
/** db-migrate's own tables, one per set; on PostgreSQL they stay too. */
const MIGRATION_TABLES = ['migrations', 'migrations_http'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function tablesOf(db: MySqlTestDatabase): Promise<string[]> {
  const rows = await db.query<{name: string}>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = DATABASE()`,
  );
  return rows
    .map(r => r.name)
    .filter(t => !MIGRATION_TABLES.includes(t))
    .sort();
}

/** MariaDB's error numbers the schema answers with. */
const ER_DUP_ENTRY = 1062;
const ER_NO_REFERENCED_ROW_2 = 1452;
const ER_CONSTRAINT_FAILED = 4025;

/** `errno: message` of the database error a statement fails with (it must fail). */
async function failure(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => {
      throw new Error('the statement succeeded');
    },
    (e: Error & {errno?: number}) => e,
  );
  return `${err.errno}: ${err.message}`;
}

describe('MySQL migrations (db-migrate, real MariaDB)', () => {
  let db: MySqlTestDatabase;

  before(async () => {
    db = await MySqlTestDatabase.create([]);
  });
  after(async () => db?.drop());

  async function clientApp(apiKey: string) {
    const id = randomUUID();
    await db.run(
      "INSERT INTO client_apps (id, name, api_key, api_secret) VALUES (?, ?, ?, 's')",
      [id, `app-${apiKey}`, apiKey],
    );
    return {id};
  }

  it('creates the core tables, then the HTTP tables, each set on its own', async () => {
    await db.migrate('up', ['core']);
    expect(await tablesOf(db)).to.eql(CORE_TABLES);
    await db.migrate('up', ['http']);
    expect(await tablesOf(db)).to.eql(ALL_TABLES);
    expect(
      await db.query(`SELECT name FROM migrations_http ORDER BY id`),
    ).to.eql([
      {name: '/20260101000001-http'},
      {name: '/20260101000002-webhook-deliveries'},
      {name: '/20260101000003-client-app-names'},
      {name: '/20260201000001-delivery-order'},
    ]);
  });

  it('makes every table InnoDB with case-sensitive utf8mb4 strings', async () => {
    const tables = await db.query<{name: string; engine: string; c: string}>(
      `SELECT table_name AS name, engine AS engine, table_collation AS c
         FROM information_schema.tables
        WHERE table_schema = DATABASE() AND table_name NOT IN (?)`,
      [MIGRATION_TABLES],
    );
    expect(tables).to.have.length(ALL_TABLES.length);
    expect(
      tables.filter(t => t.engine !== 'InnoDB' || t.c !== 'utf8mb4_bin'),
    ).to.eql([]);
    const columns = await db.query<{name: string; c: string}>(
      `SELECT CONCAT(table_name, '.', column_name) AS name, collation_name AS c
         FROM information_schema.columns
        WHERE table_schema = DATABASE() AND collation_name IS NOT NULL
          AND table_name NOT IN (?)`,
      [MIGRATION_TABLES],
    );
    expect(columns.filter(c => c.c !== 'utf8mb4_bin')).to.eql([]);
  });

  it('fills ids, UTC timestamps, flags and the outbox sequence by default', async () => {
    const before = Date.now();
    // The session's time zone must not matter: the columns hold UTC.
    const [task] = await db.session(async conn => {
      await conn.query(`SET time_zone = '+05:00'`);
      await conn.query(
        "INSERT INTO tasks (`key`, name, metadata) VALUES ('Review 🦉', 'Review', ?)",
        ['{"b": 1,  "a": [2]}'],
      );
      // The driver parses a column MariaDB reports as JSON; CAST reads the text.
      const [rows] = await conn.query(
        "SELECT *, CAST(metadata AS CHAR) AS text FROM tasks WHERE `key` = 'Review 🦉'",
      );
      return rows as Record<string, unknown>[];
    });
    expect(task.id).to.match(UUID);
    expect(task).to.containDeep({
      status: 'pending',
      deleted: 0,
      // Kept verbatim, as PostgreSQL's json: spacing and key order.
      text: '{"b": 1,  "a": [2]}',
    });
    const createdOn = (task.created_on as Date).getTime();
    expect(createdOn).to.be.within(before - 60000, Date.now() + 60000);
    expect(
      await db.query("SELECT id FROM tasks WHERE `key` = 'review 🦉'"),
    ).to.eql([]);

    for (const key of ['a', 'b', 'c']) {
      await db.run('INSERT INTO outbox_events (`key`, event) VALUES (?, ?)', [
        key,
        '{}',
      ]);
    }
    const outbox = await db.query<{key: string; seq: number}>(
      'SELECT `key` AS `key`, seq AS seq FROM outbox_events ORDER BY seq',
    );
    expect(outbox.map(r => r.key)).to.eql(['a', 'b', 'c']);
    expect(outbox[1].seq - outbox[0].seq).to.be.above(0);
    expect(outbox[2].seq - outbox[1].seq).to.be.above(0);
  });

  it('refuses what PostgreSQL refuses: bad JSON, an unknown status, a dangling key', async () => {
    expect(
      await failure(
        db.run("INSERT INTO outbox_events (`key`, event) VALUES ('k', '{no')"),
      ),
    ).to.match(
      new RegExp(
        `^${ER_CONSTRAINT_FAILED}: CONSTRAINT .outbox_events.event. failed`,
      ),
    );
    const app = await clientApp('key-1');
    expect(
      await failure(
        db.run(
          `INSERT INTO webhook_deliveries (client_app_id, url, event_key, event, status)
           VALUES (?, 'http://x', 'k', '{}', 'lost')`,
          [app.id],
        ),
      ),
    ).to.match(
      new RegExp(
        `^${ER_CONSTRAINT_FAILED}: CONSTRAINT .webhook_deliveries.status. failed`,
      ),
    );
    expect(
      await failure(
        db.run(
          "INSERT INTO user_tasks (task_id, name) VALUES ('00000000-0000-0000-0000-000000000000', 'n')",
        ),
      ),
    ).to.match(
      new RegExp(`^${ER_NO_REFERENCED_ROW_2}: .*user_tasks_task_id_fkey`),
    );
  });

  it('keeps a mapping unique among live rows only, as the partial indexes do', async () => {
    const map = (deleted: number) =>
      db.run(
        `INSERT INTO event_workflows (event_key, workflow_key, deleted)
         VALUES ('order', 'flow', ?)`,
        [deleted],
      );
    await map(0);
    expect(await failure(map(0))).to.match(
      new RegExp(`^${ER_DUP_ENTRY}: .*uq_event_workflows_pair`),
    );
    await map(1);
    await map(1);
    await db.run(
      "UPDATE event_workflows SET deleted = 1 WHERE event_key = 'order' AND deleted = 0",
    );
    await map(0);
    expect(
      await db.query(
        "SELECT deleted FROM event_workflows WHERE event_key = 'order' ORDER BY deleted",
      ),
    ).to.eql([{deleted: 0}, {deleted: 1}, {deleted: 1}, {deleted: 1}]);
  });

  it('keeps a subscription unique by client, key and a URL of any length', async () => {
    const app = await clientApp('key-2');
    // Longer than any index key (3072 bytes): only its hash is indexed.
    const url = `https://receiver.example/${'ü'.repeat(4000)}`;
    const subscribe = (u: string) =>
      db.run(
        "INSERT INTO webhook_subscriptions (`key`, url, client_app_id) VALUES ('task-created', ?, ?)",
        [u, app.id],
      );
    await subscribe(url);
    expect(await failure(subscribe(url))).to.match(
      new RegExp(`^${ER_DUP_ENTRY}: .*uq_webhook_subscriptions_client_key_url`),
    );
    await subscribe(`${url}x`);

    const [sub] = await db.query<{id: string}>(
      'SELECT id FROM webhook_subscriptions WHERE url = ?',
      [url],
    );
    await db.run(
      `INSERT INTO webhook_deliveries (subscription_id, client_app_id, url, event_key, event)
       VALUES (?, ?, ?, 'task-created', '{}')`,
      [sub.id, app.id, url],
    );
    const [delivery] = await db.query<{id: string}>(
      'SELECT id FROM webhook_deliveries WHERE subscription_id = ?',
      [sub.id],
    );
    await db.run(
      'INSERT INTO webhook_delivery_attempts (delivery_id, attempt_no, duration_ms) VALUES (?, 1, 5)',
      [delivery.id],
    );
    // Removing the subscription keeps its deliveries; removing the client does not.
    await db.run('DELETE FROM webhook_subscriptions WHERE id = ?', [sub.id]);
    expect(
      await db.query(
        'SELECT subscription_id FROM webhook_deliveries WHERE id = ?',
        [delivery.id],
      ),
    ).to.eql([{subscription_id: null}]);
    await db.run('DELETE FROM client_apps WHERE id = ?', [app.id]);
    expect(
      await db.query(
        'SELECT id FROM webhook_delivery_attempts WHERE delivery_id = ?',
        [delivery.id],
      ),
    ).to.eql([]);
  });

  it('serves a LoopBack datasource bound with dataSourceConfig', async () => {
    const ds = new juggler.DataSource(db.dataSourceConfig('tasks-db'));
    // The connector opens its first pooled connection on its own; closing
    // the pool before that handshake ends raises an uncaught error.
    if (!ds.connected) await once(ds, 'connected');
    try {
      const Task = ds.createModel<juggler.PersistedModelClass>(
        'Task',
        {
          id: {type: String, id: true},
          key: {type: String},
          metadata: {type: Object},
          deleted: {type: Boolean},
          createdOn: {type: Date, mysql: {columnName: 'created_on'}},
        },
        {mysql: {table: 'tasks'}},
      );
      const found = await Task.findOne({where: {key: 'Review 🦉'}});
      expect(found?.toJSON()).to.containDeep({
        key: 'Review 🦉',
        metadata: {b: 1, a: [2]},
        deleted: false,
      });
      const createdOn = (found?.toJSON() as {createdOn: Date}).createdOn;
      expect(createdOn).to.be.instanceOf(Date);
      expect(Math.abs(createdOn.getTime() - Date.now())).to.be.below(600000);
    } finally {
      await ds.disconnect();
    }
  });

  it('down removes exactly what up made; db-migrate keeps its empty tables', async () => {
    await db.migrate('down', ['core', 'http']);
    expect(await tablesOf(db)).to.eql([]);
    const left = await db.query<{name: string}>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = DATABASE()`,
    );
    expect(left.map(r => r.name).sort()).to.eql(MIGRATION_TABLES);
    expect(
      await db.query(
        'SELECT (SELECT COUNT(*) FROM migrations) + (SELECT COUNT(*) FROM migrations_http) AS n',
      ),
    ).to.eql([{n: 0}]);
    expect(
      await db.query(
        `SELECT constraint_name FROM information_schema.table_constraints
          WHERE constraint_schema = DATABASE() AND table_name NOT IN (?)`,
        [MIGRATION_TABLES],
      ),
    ).to.eql([]);
  });

  it('runs up again after down', async () => {
    await db.migrate('up', ['core', 'http']);
    expect(await tablesOf(db)).to.eql(ALL_TABLES);
  });

  it('leaves the core tables alone when only the HTTP set goes down', async () => {
    await db.migrate('down', ['http']);
    expect(await tablesOf(db)).to.eql(CORE_TABLES);
  });
});

describe('DB_CONNECTOR picks the database of the migration scripts', () => {
  let db: MySqlTestDatabase;

  before(async () => {
    db = await MySqlTestDatabase.create([]);
  });
  after(async () => db?.drop());

  /** Runs a script as npm would, on this test's MariaDB database. */
  function script(file: string, args: string[], env: NodeJS.ProcessEnv) {
    return promisify(execFile)(process.execPath, [file, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DB_CONNECTOR: 'mysql',
        DB_HOST: MYSQL_ADMIN.host,
        DB_PORT: String(MYSQL_ADMIN.port),
        DB_USER: MYSQL_ADMIN.user,
        DB_PASSWORD: MYSQL_ADMIN.password,
        DB_DATABASE: db.name,
        ...env,
      },
    });
  }

  it('defaults port and user by connector and refuses one it does not know', () => {
    expect(connectionFromEnv({})).to.eql({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      password: undefined,
      database: 'taskdb',
    });
    expect(connectionFromEnv({DB_CONNECTOR: 'mysql'})).to.containDeep({
      port: 3306,
      user: 'root',
    });
    expect(connectorFrom('MySQL')).to.equal('mysql');
    expect(() => connectorFrom('oracle')).to.throw(
      'Unknown DB_CONNECTOR "oracle": use postgresql or mysql',
    );
  });

  it('runs the postinstall migration on MySQL', async () => {
    const {stdout} = await script('scripts/migrate-on-install.js', [], {
      TASK_SERVICE_MIGRATION: 'core,http',
    });
    expect(stdout).to.match(/mysql migrations \(core, http\) are up to date/);
    expect(await tablesOf(db)).to.eql(ALL_TABLES);
  });

  it('runs db:migrate:down on MySQL', async () => {
    await script('migrations/migrate.js', ['down', 'core', 'http'], {});
    expect(await tablesOf(db)).to.eql([]);
  });
});

/*
 * Parity: the migrated PostgreSQL and MariaDB schemas, read from their
 * catalogs and brought to one vocabulary by the tables below, must be equal,
 * so a change to one migration that the other lacks fails here.
 */

interface Column {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
}
interface Index {
  name: string;
  unique: boolean;
  columns: string[];
}
interface ForeignKey {
  name: string;
  columns: string[];
  references: string;
  onDelete: string;
  onUpdate: string;
}
interface Table {
  columns: Column[];
  indexes: Index[];
  foreignKeys: ForeignKey[];
  checks: string[];
}
type Schema = Record<string, Table>;

/** PostgreSQL data_type → shared type (varchar then gets its length). */
const PG_TYPES: Record<string, string> = {
  uuid: 'uuid',
  'character varying': 'varchar',
  text: 'text',
  json: 'json',
  'timestamp with time zone': 'timestamp',
  boolean: 'boolean',
  integer: 'integer',
  bigint: 'bigint',
};
/**
 * MySQL column_type → shared type. Display widths are dropped (MariaDB shows
 * int(11), MySQL 8 int); a LONGTEXT with a JSON_VALID check is `json`.
 */
const MYSQL_TYPES: Record<string, string> = {
  'char(36)': 'uuid',
  varchar: 'varchar',
  longtext: 'text',
  'datetime(3)': 'timestamp',
  'tinyint(1)': 'boolean',
  int: 'integer',
  bigint: 'bigint',
};
/** PostgreSQL default, `::type` casts dropped → shared default. */
const PG_DEFAULTS: Record<string, string> = {
  'gen_random_uuid()': 'new uuid',
  'now()': 'now',
};
/** MySQL default → shared default. */
const MYSQL_DEFAULTS: Record<string, string> = {
  'uuid()': 'new uuid',
  'utc_timestamp(3)': 'now',
};
const MYSQL_BOOLEANS: Record<string, string> = {0: 'false', 1: 'true'};

/**
 * PostgreSQL's partial indexes (MySQL has none) and what stands for each:
 * the predicate's column leads the index, or the stored generated column
 * `not_deleted` (NULL once deleted; NULLs never collide in a unique key).
 */
const PARTIAL_INDEXES: Record<string, {predicate: string; mysql: string[]}> = {
  idx_outbox_events_pending: {
    predicate: '(published_on IS NULL)',
    mysql: ['published_on', 'seq'],
  },
  idx_outbox_events_due: {
    predicate:
      '((published_on IS NULL) AND (parked_on IS NULL) AND (discarded_on IS NULL))',
    mysql: ['published_on', 'parked_on', 'discarded_on', 'available_on', 'seq'],
  },
  idx_outbox_events_unkeyed: {
    predicate:
      '((published_on IS NULL) AND (parked_on IS NULL) AND (discarded_on IS NULL) AND ((key_count IS NULL) OR (key_count = 0)))',
    mysql: [
      'published_on',
      'parked_on',
      'discarded_on',
      'key_count',
      'available_on',
      'seq',
    ],
  },
  idx_outbox_events_parked: {
    predicate: '(parked_on IS NOT NULL)',
    mysql: ['parked_on'],
  },
  idx_webhook_deliveries_due: {
    predicate: "((status)::text = 'pending'::text)",
    mysql: ['status', 'next_attempt_on'],
  },
  uq_event_workflows_pair: {
    predicate: '(NOT deleted)',
    mysql: ['event_key', 'workflow_key', 'not_deleted'],
  },
  uq_task_workflows_pair: {
    predicate: '(NOT deleted)',
    mysql: ['task_key', 'workflow_key', 'not_deleted'],
  },
  uq_client_apps_live_name: {
    predicate: '(NOT deleted)',
    mysql: ['name', 'not_deleted'],
  },
  uq_webhook_subscriptions_client_key_url: {
    predicate: '(NOT deleted)',
    // A LONGTEXT cannot be part of a key: its SHA-256 is.
    mysql: ['client_app_id', 'key', 'url_hash', 'not_deleted'],
  },
};

/** Columns only MySQL has, all stored generated: table.column → expression. */
const MYSQL_ONLY_COLUMNS: Record<string, string> = {
  'client_apps.not_deleted': 'case when `deleted` then NULL else 1 end',
  'event_workflows.not_deleted': 'case when `deleted` then NULL else 1 end',
  'task_workflows.not_deleted': 'case when `deleted` then NULL else 1 end',
  'webhook_subscriptions.not_deleted':
    'case when `deleted` then NULL else 1 end',
  'webhook_subscriptions.url_hash': 'sha2(`url`,256)',
};

/** Indexes only MySQL has: table.index → why. */
const MYSQL_ONLY_INDEXES: Record<string, string> = {
  'outbox_events.idx_outbox_events_seq': 'AUTO_INCREMENT must lead a key',
  'event_receipts.idx_event_receipts_event_id': 'InnoDB indexes foreign keys',
  'webhook_deliveries.idx_webhook_deliveries_subscription_id':
    'InnoDB indexes foreign keys',
  'webhook_deliveries.idx_webhook_deliveries_seq':
    'AUTO_INCREMENT must lead a key',
};

/** Referential actions, PostgreSQL's codes and MySQL's words → shared. */
const PG_ACTIONS: Record<string, string> = {
  // NO ACTION is RESTRICT checked at the end of the statement; MySQL has
  // only the immediate one.
  a: 'restrict',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
};
const MYSQL_ACTIONS: Record<string, string> = {
  'NO ACTION': 'restrict',
  RESTRICT: 'restrict',
  CASCADE: 'cascade',
  'SET NULL': 'set null',
};

function shared(names: Record<string, string>, key: string, what: string) {
  const name = names[key];
  if (name === undefined) {
    throw new Error(`No shared name for ${what} "${key}": add it to the table`);
  }
  return name;
}

/** `status IN (a,b)` from either dialect's CHECK clause. */
function inList(clause: string): string {
  const column = /[a-z_]+/.exec(clause.replace(/^CHECK/, ''))?.[0];
  const values = [...clause.matchAll(/'([^']*)'/g)].map(m => m[1]);
  return `${column} IN (${values.join(',')})`;
}

function tableIn(schema: Schema, name: string): Table {
  schema[name] ??= {columns: [], indexes: [], foreignKeys: [], checks: []};
  return schema[name];
}

/** Reads schema `main`; `predicates` gets each partial index's WHERE. */
async function postgresSchema(
  pg: TestDatabase,
  predicates: Record<string, string>,
): Promise<Schema> {
  const schema: Schema = {};
  const columns = await pg.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    character_maximum_length: number | null;
    is_nullable: string;
    column_default: string | null;
  }>(
    `SELECT table_name, column_name, data_type, character_maximum_length,
            is_nullable, column_default
       FROM information_schema.columns
      WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
  );
  for (const c of columns) {
    let type = shared(PG_TYPES, c.data_type, 'PostgreSQL type');
    if (type === 'varchar') type += `(${c.character_maximum_length})`;
    const raw = c.column_default?.replace(/::[a-z ]+$/, '') ?? null;
    let def = raw;
    if (raw?.startsWith('nextval(')) def = 'sequence';
    else if (raw !== null) def = PG_DEFAULTS[raw] ?? raw;
    tableIn(schema, c.table_name).columns.push({
      name: c.column_name,
      type,
      nullable: c.is_nullable === 'YES',
      default: def,
    });
  }

  const indexes = await pg.query<{
    table: string;
    name: string;
    unique: boolean;
    primary: boolean;
    predicate: string | null;
    columns: string[];
  }>(
    `SELECT t.relname AS "table", i.relname AS name, ix.indisunique AS "unique",
            ix.indisprimary AS "primary",
            pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            array(SELECT a.attname || CASE WHEN (ix.indoption[k.n - 1] & 1) = 1
                                            THEN ' DESC' ELSE '' END
                    FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                   ORDER BY k.n) AS columns
       FROM pg_index ix
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'main'`,
  );
  for (const ix of indexes) {
    let indexed = ix.columns;
    if (ix.predicate !== null) {
      predicates[ix.name] = ix.predicate;
      indexed = PARTIAL_INDEXES[ix.name]?.mysql ?? [
        `${indexed.join(',')} WHERE ${ix.predicate}: not in PARTIAL_INDEXES`,
      ];
    }
    tableIn(schema, ix.table).indexes.push({
      name: ix.primary ? 'PRIMARY' : ix.name,
      unique: ix.unique,
      columns: indexed,
    });
  }

  const constraints = await pg.query<{
    table: string;
    name: string;
    type: string;
    definition: string;
    on_delete: string;
    on_update: string;
    columns: string[];
    ref_table: string | null;
    ref_columns: string[];
  }>(
    `SELECT t.relname AS "table", c.conname AS name, c.contype AS type,
            pg_get_constraintdef(c.oid) AS definition,
            c.confdeltype AS on_delete, c.confupdtype AS on_update,
            array(SELECT a.attname
                    FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                   ORDER BY k.n)::text[] AS columns,
            rt.relname AS ref_table,
            array(SELECT a.attname
                    FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
                   ORDER BY k.n)::text[] AS ref_columns
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       LEFT JOIN pg_class rt ON rt.oid = c.confrelid
      WHERE n.nspname = 'main' AND c.contype IN ('f', 'c')`,
  );
  for (const c of constraints) {
    const table = tableIn(schema, c.table);
    if (c.type === 'c') {
      table.checks.push(inList(c.definition));
    } else {
      table.foreignKeys.push({
        name: c.name,
        columns: c.columns,
        references: `${c.ref_table}(${c.ref_columns.join(',')})`,
        onDelete: shared(PG_ACTIONS, c.on_delete, 'PostgreSQL action'),
        onUpdate: shared(PG_ACTIONS, c.on_update, 'PostgreSQL action'),
      });
    }
  }
  return schema;
}

/**
 * Reads the connected database (db-migrate's tables aside). `only` gets the
 * MySQL-only columns (with their generation) and indexes it left out.
 */
async function mysqlSchema(
  my: MySqlTestDatabase,
  only: {columns: Record<string, string>; indexes: string[]},
): Promise<Schema> {
  const schema: Schema = {};
  // MariaDB names the table of a check; MySQL 8 has no such column.
  const checks = await my.query<{table: string; clause: string}>(
    `SELECT table_name AS \`table\`, check_clause AS clause
       FROM information_schema.check_constraints
      WHERE constraint_schema = DATABASE()`,
  );
  const jsonColumns = new Set<string>();
  for (const c of checks) {
    const json = /^json_valid\(`(\w+)`\)$/.exec(c.clause);
    if (json) jsonColumns.add(`${c.table}.${json[1]}`);
    else tableIn(schema, c.table).checks.push(inList(c.clause));
  }

  const columns = await my.query<{
    table: string;
    name: string;
    type: string;
    nullable: string;
    def: string | null;
    extra: string;
    generated: string | null;
  }>(
    `SELECT table_name AS \`table\`, column_name AS name, column_type AS type,
            is_nullable AS nullable, column_default AS def, extra AS extra,
            generation_expression AS \`generated\`
       FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name NOT IN (?)
      ORDER BY table_name, ordinal_position`,
    [MIGRATION_TABLES],
  );
  for (const c of columns) {
    const qualified = `${c.table}.${c.name}`;
    if (qualified in MYSQL_ONLY_COLUMNS) {
      only.columns[qualified] = `${c.extra}: ${c.generated}`;
      continue;
    }
    const length = /^varchar\((\d+)\)$/.exec(c.type)?.[1];
    const bare = length
      ? 'varchar'
      : c.type.replace(/^(int|bigint)\(\d+\)$/, '$1');
    let type = shared(MYSQL_TYPES, bare, 'MySQL type');
    if (length) type += `(${length})`;
    if (type === 'text' && jsonColumns.has(qualified)) type = 'json';
    // MariaDB shows no default as the text NULL and string literals quoted;
    // MySQL 8 shows SQL NULL and literals bare.
    let def = c.def === 'NULL' ? null : c.def;
    if (c.extra.includes('auto_increment')) def = 'sequence';
    else if (def !== null && type === 'boolean') {
      def = shared(MYSQL_BOOLEANS, def, 'boolean');
    } else if (def !== null && type.startsWith('varchar')) {
      def = `'${def.replace(/^'|'$/g, '')}'`;
    } else if (def !== null) def = MYSQL_DEFAULTS[def] ?? def;
    tableIn(schema, c.table).columns.push({
      name: c.name,
      type,
      nullable: c.nullable === 'YES',
      default: def,
    });
  }

  const keyParts = await my.query<{
    table: string;
    name: string;
    non_unique: number;
    column: string;
    collation: string | null;
  }>(
    `SELECT table_name AS \`table\`, index_name AS name, non_unique AS non_unique,
            column_name AS \`column\`, collation AS collation
       FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name NOT IN (?)
      ORDER BY table_name, index_name, seq_in_index`,
    [MIGRATION_TABLES],
  );
  for (const k of keyParts) {
    const qualified = `${k.table}.${k.name}`;
    if (qualified in MYSQL_ONLY_INDEXES) {
      if (!only.indexes.includes(qualified)) only.indexes.push(qualified);
      continue;
    }
    const indexes = tableIn(schema, k.table).indexes;
    let index = indexes.find(i => i.name === k.name);
    if (!index) {
      index = {name: k.name, unique: Number(k.non_unique) === 0, columns: []};
      indexes.push(index);
    }
    index.columns.push(k.collation === 'D' ? `${k.column} DESC` : k.column);
  }

  const keyColumns = await my.query<{
    table: string;
    name: string;
    column: string;
    ref_table: string;
    ref_column: string;
    on_delete: string;
    on_update: string;
  }>(
    `SELECT rc.table_name AS \`table\`, rc.constraint_name AS name,
            k.column_name AS \`column\`, rc.referenced_table_name AS ref_table,
            k.referenced_column_name AS ref_column,
            rc.delete_rule AS on_delete, rc.update_rule AS on_update
       FROM information_schema.referential_constraints rc
       JOIN information_schema.key_column_usage k
         ON k.constraint_schema = rc.constraint_schema
        AND k.constraint_name = rc.constraint_name
        AND k.table_name = rc.table_name
      WHERE rc.constraint_schema = DATABASE()
      ORDER BY rc.table_name, rc.constraint_name, k.ordinal_position`,
  );
  const refColumns = new Map<ForeignKey, string[]>();
  for (const k of keyColumns) {
    const foreignKeys = tableIn(schema, k.table).foreignKeys;
    let fk = foreignKeys.find(f => f.name === k.name);
    if (!fk) {
      fk = {
        name: k.name,
        columns: [],
        references: '',
        onDelete: shared(MYSQL_ACTIONS, k.on_delete, 'MySQL action'),
        onUpdate: shared(MYSQL_ACTIONS, k.on_update, 'MySQL action'),
      };
      foreignKeys.push(fk);
      refColumns.set(fk, []);
    }
    fk.columns.push(k.column);
    refColumns.get(fk)!.push(k.ref_column);
    fk.references = `${k.ref_table}(${refColumns.get(fk)!.join(',')})`;
  }
  return schema;
}

describe('PostgreSQL and MySQL migrations describe the same tables', () => {
  let pg: TestDatabase;
  let my: MySqlTestDatabase;
  let expected: Schema;
  let actual: Schema;
  const predicates: Record<string, string> = {};
  const mysqlOnly = {
    columns: {} as Record<string, string>,
    indexes: [] as string[],
  };

  before(async () => {
    // Both are created before either failure counts, so `after` drops both.
    const [pgMade, myMade] = await Promise.allSettled([
      TestDatabase.create(['core', 'http']),
      MySqlTestDatabase.create(['core', 'http']),
    ]);
    if (pgMade.status === 'fulfilled') pg = pgMade.value;
    if (myMade.status === 'fulfilled') my = myMade.value;
    for (const made of [pgMade, myMade]) {
      if (made.status === 'rejected') throw made.reason;
    }
    [expected, actual] = await Promise.all([
      postgresSchema(pg, predicates),
      mysqlSchema(my, mysqlOnly),
    ]);
  });
  after(async () => {
    await Promise.all([pg?.drop(), my?.drop()]);
  });

  /**
   * Compares one part of every table, table by table so that a failure shows
   * one table; sorted where order carries no meaning.
   */
  function compare(key: keyof Table) {
    const sorted = (table: Table) => {
      const items: unknown[] = [...table[key]];
      if (key === 'columns') return items;
      return items.sort((a, b) =>
        JSON.stringify(a).localeCompare(JSON.stringify(b)),
      );
    };
    for (const table of ALL_TABLES) {
      expect({[table]: sorted(actual[table])}).to.eql({
        [table]: sorted(expected[table]),
      });
    }
  }

  it('have the same tables', () => {
    expect(Object.keys(expected).sort()).to.eql(ALL_TABLES);
    expect(Object.keys(actual).sort()).to.eql(ALL_TABLES);
  });

  it('have the same columns, in order, with the same types, nullability and defaults', () => {
    compare('columns');
    const generated = Object.fromEntries(
      Object.entries(MYSQL_ONLY_COLUMNS).map(([c, e]) => [
        c,
        `STORED GENERATED: ${e}`,
      ]),
    );
    expect(mysqlOnly.columns).to.eql(generated);
  });

  it('have the same indexes and keys, on the same columns', () => {
    expect(predicates).to.eql(
      Object.fromEntries(
        Object.entries(PARTIAL_INDEXES).map(([name, p]) => [name, p.predicate]),
      ),
    );
    compare('indexes');
    expect(mysqlOnly.indexes.sort()).to.eql(
      Object.keys(MYSQL_ONLY_INDEXES).sort(),
    );
  });

  it('have the same foreign keys and checks', () => {
    compare('foreignKeys');
    compare('checks');
    // Neither side read empty.
    expect(expected.webhook_deliveries.checks).to.eql([
      'status IN (pending,delivered,dead)',
    ]);
    expect(Object.values(expected).flatMap(t => t.foreignKeys)).to.have.length(
      10,
    );
  });
});
