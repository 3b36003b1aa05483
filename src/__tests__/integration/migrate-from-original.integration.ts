import {expect} from '@loopback/testlab';
import {readFileSync} from 'fs';
import path from 'path';
import {Task, UserTask} from '../../models';
import {givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const COPY_SQL = path.resolve(
  __dirname,
  '../../../migrations/pg/from-sourceloop-task-service.sql',
);

/** Nothing listens here: moving the rows needs no engine. */
const NO_ENGINE_URL = 'http://127.0.0.1:9/engine-rest';

// The tables of a @sourceloop/task-service 2.x database, as its migrations
// define them once their `"timestamp" number` is made a bigint (the
// migration fails otherwise): ids default to md5-made uuids, audit ids are
// uuids, `deleted` may be null, BPMN is xml, subscriptions name no client.
const ORIGINAL_SCHEMA = `
CREATE SCHEMA main;
CREATE TABLE main.tasks (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY, key varchar NOT NULL,
  name varchar, description varchar, status varchar, priority varchar,
  severity varchar, type varchar, start_date timestamptz, due_date timestamptz,
  end_date timestamptz, created_on timestamptz DEFAULT now() NOT NULL,
  modified_on timestamptz DEFAULT now() NOT NULL, deleted_on timestamptz,
  created_by uuid, modified_by uuid, deleted_by uuid, deleted boolean,
  assignee_id uuid, metadata json, external_id varchar);
CREATE TABLE main.user_tasks (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES main.tasks (id), status varchar,
  external_id varchar, name varchar,
  created_on timestamptz DEFAULT now() NOT NULL,
  modified_on timestamptz DEFAULT now() NOT NULL, deleted_on timestamptz,
  created_by uuid, modified_by uuid, deleted_by uuid, deleted boolean);
CREATE TABLE main.task_workflows (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY, workflow_key varchar,
  task_key varchar, created_on timestamptz DEFAULT now() NOT NULL,
  modified_on timestamptz DEFAULT now() NOT NULL, deleted_on timestamptz,
  created_by uuid, modified_by uuid, deleted_by uuid, deleted boolean);
CREATE TABLE main.events (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY, "key" varchar,
  "description" varchar, source varchar, payload json, "timestamp" bigint);
CREATE TABLE main.event_workflows (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY, event_key varchar,
  workflow_key varchar, created_on timestamptz DEFAULT now() NOT NULL,
  modified_on timestamptz DEFAULT now() NOT NULL, deleted_on timestamptz,
  created_by uuid, modified_by uuid, deleted_by uuid, deleted boolean);
CREATE TABLE main.workflows (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY,
  workflow_version integer NOT NULL, name varchar, description varchar,
  external_identifier varchar, provider varchar,
  created_on timestamptz DEFAULT now() NOT NULL,
  modified_on timestamptz DEFAULT now() NOT NULL, deleted_on timestamptz,
  created_by uuid, modified_by uuid, deleted_by uuid, deleted boolean,
  inputschema json);
CREATE TABLE main.workflow_versions (
  id uuid DEFAULT md5(random()::text)::uuid NOT NULL, "version" integer NOT NULL,
  workflow_id uuid NOT NULL REFERENCES main.workflows (id), bpmn_diagram xml,
  external_workflow_id varchar, bpmn_file_name varchar(100), inputschema json,
  PRIMARY KEY ("version", workflow_id));
CREATE TABLE main.webhook_subscriptions (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY, "key" varchar NOT NULL,
  "url" varchar NOT NULL);
CREATE TABLE main.client_apps (
  id uuid DEFAULT md5(random()::text)::uuid PRIMARY KEY,
  "api_key" varchar NOT NULL, "api_secret" varchar NOT NULL,
  name varchar NOT NULL);
CREATE TABLE public.migrations (id serial PRIMARY KEY, name varchar NOT NULL, run_on timestamp NOT NULL);
INSERT INTO public.migrations (name, run_on)
  VALUES ('/20230808104436-init', now()), ('/20230808104437-http', now());
`;

const USER = '6f1c1a0e-0000-4000-8000-000000000001';
const TASK = '11111111-1111-4111-8111-111111111111';
const WORKFLOW = '22222222-2222-4222-8222-222222222222';

// What the old service left behind, its defects included: one engine user
// task recorded on every sync, a mapping posted twice, a subscription
// without its client.
const ORIGINAL_ROWS = `
INSERT INTO main.tasks (id, key, name, status, priority, created_by, metadata, external_id)
  VALUES ('${TASK}', 'review', 'Review order 7', 'in progress', 'high', '${USER}', '{"order":7}', 'instance-1'),
         (DEFAULT, 'ship', NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO main.user_tasks (task_id, status, external_id, name, modified_on) VALUES
  ('${TASK}', 'pending', 'engine-task-1', 'Check', now() - interval '2 hours'),
  ('${TASK}', 'completed', 'engine-task-1', 'Check', now() - interval '1 hour'),
  ('${TASK}', 'pending', 'engine-task-1', 'Check', now()),
  ('${TASK}', 'pending', 'engine-task-2', 'Approve', now());
INSERT INTO main.event_workflows (event_key, workflow_key) VALUES
  ('order.received', 'intake:1:abc'), ('order.received', 'intake:1:abc');
INSERT INTO main.task_workflows (task_key, workflow_key, deleted) VALUES
  ('review', 'review:2:def', NULL), ('review', 'review:1:old', true);
INSERT INTO main.events (key, source, payload, "timestamp")
  VALUES ('order.received', 'shop', '{"order":7}', 1700000000000);
INSERT INTO main.workflows (id, workflow_version, name, external_identifier, provider, inputschema)
  VALUES ('${WORKFLOW}', 2, 'review', 'review:2:def', 'camunda', '{"type":"object"}');
INSERT INTO main.workflow_versions (version, workflow_id, bpmn_diagram, external_workflow_id, inputschema) VALUES
  (1, '${WORKFLOW}', '<definitions id="v1"/>', 'review:1:old', '{}'),
  (2, '${WORKFLOW}', '<definitions id="v2"/>', 'review:2:def', '{"type":"object"}');
INSERT INTO main.client_apps (name, api_key, api_secret)
  VALUES ('shop', 'shop-key', 'shop-secret');
INSERT INTO main.webhook_subscriptions (key, url)
  VALUES ('task-created', 'http://shop.example/hooks');
`;

describe('Moving a @sourceloop/task-service database to this service, as the README says (PostgreSQL)', function () {
  this.timeout(60000);
  let db: TestDatabase;
  let t: TestApp;
  const admin = bearer(tokenWith(ALL_PERMISSIONS));

  before(async () => {
    db = await TestDatabase.create([]);
    await db.query(ORIGINAL_SCHEMA);
    await db.query(ORIGINAL_ROWS);
    // The README's steps: set the old tables aside, migrate, copy.
    await db.query('ALTER SCHEMA main RENAME TO sourceloop_main');
    await db.query(
      'ALTER TABLE public.migrations RENAME TO sourceloop_migrations',
    );
    await db.migrate('up', ['core', 'http']);
    await db.query(readFileSync(COPY_SQL, 'utf8'));
    t = await givenTestApp({db, engineUrl: NO_ENGINE_URL});
  });

  after(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('keeps the tasks, filling what the new columns require', async () => {
    const res = await t.client
      .get('/tasks')
      .query({filter: JSON.stringify({order: ['key ASC']})})
      .set(admin)
      .expect(200);
    const [review, ship] = res.body as Task[];
    expect(review).to.containDeep({
      id: TASK,
      key: 'review',
      name: 'Review order 7',
      status: 'in progress',
      priority: 'high',
      createdBy: USER,
      metadata: {order: 7},
      externalId: 'instance-1',
      deleted: false,
    });
    expect(ship).to.containDeep({key: 'ship', name: 'ship', status: 'pending'});
  });

  it('keeps one user task per engine task, the completed one', async () => {
    const res = await t.client
      .get(`/tasks/${TASK}/user-tasks`)
      .query({filter: JSON.stringify({order: ['name ASC']})})
      .set(admin)
      .expect(200);
    expect(
      (res.body as UserTask[]).map(u => [u.name, u.status, u.externalId]),
    ).to.eql([
      ['Approve', 'pending', 'engine-task-2'],
      ['Check', 'completed', 'engine-task-1'],
    ]);
  });

  it('keeps the workflows with their versions, and one live row per mapping', async () => {
    const res = await t.client
      .get(`/workflows/${WORKFLOW}`)
      .set(admin)
      .expect(200);
    expect(res.body).to.containDeep({
      name: 'review',
      workflowVersion: 2,
      externalIdentifier: 'review:2:def',
      inputSchema: {type: 'object'},
    });
    expect(
      res.body.workflowVersions
        .map((v: {version: number; bpmnDiagram: string}) => [
          v.version,
          v.bpmnDiagram,
        ])
        .sort(),
    ).to.eql([
      [1, '<definitions id="v1"/>'],
      [2, '<definitions id="v2"/>'],
    ]);
    const eventMappings = await db.query(
      'SELECT event_key, workflow_key FROM main.event_workflows',
    );
    expect(eventMappings).to.eql([
      {event_key: 'order.received', workflow_key: 'intake:1:abc'},
    ]);
    const taskMappings = await db.query(
      'SELECT workflow_key, deleted FROM main.task_workflows ORDER BY workflow_key',
    );
    expect(taskMappings).to.eql([
      {workflow_key: 'review:1:old', deleted: true},
      {workflow_key: 'review:2:def', deleted: false},
    ]);
  });

  it('keeps the events, the client apps, and with one client app its subscriptions', async () => {
    const events = await t.client.get('/events').set(admin).expect(200);
    expect(events.body).to.containDeep([
      {key: 'order.received', source: 'shop', timestamp: 1700000000000},
    ]);
    const subscriptions = await db.query<{key: string; name: string}>(
      `SELECT s.key, a.name FROM main.webhook_subscriptions s
       JOIN main.client_apps a ON a.id = s.client_app_id`,
    );
    expect(subscriptions).to.eql([{key: 'task-created', name: 'shop'}]);
    const old = await db.query<{count: string}>(
      'SELECT count(*) FROM sourceloop_main.tasks',
    );
    expect(old[0].count).to.equal('2');
  });
});
