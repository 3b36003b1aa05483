import {expect} from '@loopback/testlab';
import {TestDatabase} from '../fixtures/database';

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

describe('PostgreSQL migrations (db-migrate, real database)', () => {
  let db: TestDatabase;

  before(async () => {
    db = await TestDatabase.create([]);
  });
  after(async () => db?.drop());

  async function tablesInMain(): Promise<string[]> {
    const rows = await db.query<{table_name: string}>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'main' ORDER BY table_name`,
    );
    return rows.map(r => r.table_name);
  }

  async function schemaExists(): Promise<boolean> {
    const rows = await db.query(
      `SELECT 1 FROM information_schema.schemata WHERE schema_name = 'main'`,
    );
    return rows.length === 1;
  }

  it('creates the core tables, then the HTTP tables, each set on its own', async () => {
    await db.migrate('up', ['core']);
    expect(await tablesInMain()).to.eql(CORE_TABLES);
    await db.migrate('up', ['http']);
    expect(await tablesInMain()).to.eql(
      [...CORE_TABLES, ...HTTP_TABLES].sort(),
    );
  });

  it('down removes exactly what up made, schema included', async () => {
    await db.migrate('down', ['core', 'http']);
    expect(await tablesInMain()).to.eql([]);
    expect(await schemaExists()).to.be.false();
  });

  it('runs up again after down', async () => {
    await db.migrate('up', ['core', 'http']);
    expect(await tablesInMain()).to.eql(
      [...CORE_TABLES, ...HTTP_TABLES].sort(),
    );
  });

  it('indexes the look-ups the service makes', async () => {
    const rows = await db.query<{indexdef: string}>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = 'main'`,
    );
    const defs = rows.map(r => r.indexdef).join('\n');
    for (const expected of [
      // Filter columns, then the order rows are returned in (reads).
      'tasks USING btree (key, status, deleted, id)',
      'tasks USING btree (status)',
      'tasks USING btree (external_id)',
      'user_tasks USING btree (task_id, deleted, id)',
      'user_tasks USING btree (external_id)',
      'event_workflows USING btree (event_key)',
      'task_workflows USING btree (task_key)',
      'events USING btree (key, "timestamp", id)',
      // The relay's claim and its "earlier event of the same task" test.
      'outbox_events USING btree (available_on, seq) WHERE ((published_on IS NULL) AND (parked_on IS NULL) AND (discarded_on IS NULL))',
      'outbox_event_keys USING btree (ordering_key, seq)',
      'outbox_events USING btree (parked_on) WHERE (parked_on IS NOT NULL)',
      // The delivery worker's "earlier delivery of the same task" test.
      'webhook_delivery_keys USING btree (receiver, ordering_key, seq)',
      'task_starts USING btree (external_task_id, task_index)',
    ]) {
      expect(defs).to.containEql(expected);
    }
  });

  it('leaves the core tables alone when only the HTTP set goes down', async () => {
    await db.migrate('down', ['http']);
    expect(await tablesInMain()).to.eql(CORE_TABLES);
  });
});
