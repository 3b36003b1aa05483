import {inject} from '@loopback/core';
import {
  DefaultCrudRepository,
  Entity,
  juggler,
  model,
  property,
} from '@loopback/repository';
import {expect} from '@loopback/testlab';
import {TaskHttpComponent} from '../../connectors/http';
import {
  CommandRun,
  EventReceipt,
  EventWorkflowRun,
  OutboxEvent,
} from '../../models';
import {TaskRepository} from '../../repositories';
import {TaskSqlBindings} from '../../sql';
import {givenTestApp, TestApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';

/** A model of the host app itself, on a datasource of its own. */
@model({
  settings: {
    strict: true,
    postgresql: {schema: 'public', table: 'host_notes'},
    mysql: {table: 'host_notes'},
  },
})
class HostNote extends Entity {
  @property({type: 'number', id: true, generated: true})
  id?: number;

  @property({type: 'string'})
  text?: string;
}

class HostNoteRepository extends DefaultCrudRepository<HostNote, number> {
  constructor(@inject('datasources.db') dataSource: juggler.DataSource) {
    super(HostNote, dataSource);
  }
}

/** Lines of a schema snapshot that describe the host's own table. */
const isHostTable = (line: string) => /host_notes/.test(line);

/**
 * An app as `lb4 app` makes one, with the service mounted (core and HTTP
 * connector), its own model on its own datasource, and the models of the
 * tables only the service's SQL writes attached too; built and booted, not
 * started: what an app's `npm run migrate` runs.
 */
async function givenHostApp(
  db: CellDatabase,
  disableMigration?: boolean,
): Promise<TestApp> {
  const t = await givenTestApp({
    db,
    start: false,
    after: app => {
      app.component(TaskHttpComponent);
      app.dataSource(new juggler.DataSource(db.dataSourceConfig('db')), 'db');
      app.repository(HostNoteRepository);
    },
  });
  const tasks = await t.app.get(TaskSqlBindings.TASK_DATASOURCE);
  if (disableMigration !== undefined) {
    // As the datasource's config would say it (MySQL's driver would warn
    // of a setting it does not know).
    for (const key of [
      TaskSqlBindings.TASK_DATASOURCE,
      TaskSqlBindings.WORKFLOW_DATASOURCE,
    ]) {
      Object.assign((await t.app.get(key)).settings, {disableMigration});
    }
  }
  const storeModels: (typeof Entity)[] = [
    OutboxEvent,
    CommandRun,
    EventReceipt,
    EventWorkflowRun,
  ];
  // A juggler datasource migrates the models attached to it. A
  // SequelizeDataSource has no schema migration (its autoupdate throws), so
  // nothing attached to it is migrated.
  if (db.cell.orm === 'juggler') {
    for (const storeModel of storeModels) {
      new DefaultCrudRepository(storeModel, tasks as juggler.DataSource);
    }
  }
  return t;
}

async function stopHostApp(t: TestApp | undefined) {
  if (!t) return;
  await t.stop();
  await (await t.app.get<juggler.DataSource>('datasources.db')).disconnect();
}

for (const cell of dataCells()) {
  describe(`An app's \`npm run migrate\` leaves the service's tables alone (${cell.name})`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    let made: string[];

    before(async () => {
      db = await givenCellDatabase(cell);
      made = await db.schema();
      t = await givenHostApp(db);
    });
    after(async () => {
      await stopHostApp(t);
      await db?.drop();
    });

    /** The schema but the host's own table: what the migrations made. */
    async function serviceSchema() {
      return (await db.schema()).filter(line => !isHostTable(line));
    }

    it('autoupdate (`npm run migrate`) changes nothing and still makes the host’s own table', async () => {
      await t.app.migrateSchema({existingSchema: 'alter'});
      expect(await serviceSchema()).to.eql(made);
      expect((await db.schema()).filter(isHostTable)).to.not.be.empty();
      const notes = await t.app.getRepository(HostNoteRepository);
      await notes.create({text: 'the host app works as before'});
      expect(await notes.count()).to.eql({count: 1});
    });

    it('automigrate (`npm run migrate -- --rebuild`) neither drops nor changes them, and keeps their rows', async () => {
      const tasks = await t.app.getRepository(TaskRepository);
      const task = await tasks.create({key: 'kept', name: 'Kept'});
      await t.app.migrateSchema({existingSchema: 'drop'});
      expect(await serviceSchema()).to.eql(made);
      expect((await tasks.findById(task.id!)).name).to.equal('Kept');
    });
  });

  describe(`What the schema comparison sees when the service's datasources opt back in (${cell.name})`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;

    before(async () => {
      db = await givenCellDatabase(cell);
    });
    after(async () => {
      await stopHostApp(t);
      await db?.drop();
    });

    it('with `disableMigration: false`, the connector’s autoupdate alters the tables or fails on them', async () => {
      const made = await db.schema();
      t = await givenHostApp(db, false);
      const failure = await t.app
        .migrateSchema({existingSchema: 'alter'})
        .then(() => undefined)
        .catch((err: Error) => err);
      const after = (await db.schema()).filter(line => !isHostTable(line));
      // Either way the database is no longer what the migrations made, or
      // the migration could not run: the comparison above is not blind.
      expect({
        failed: failure !== undefined,
        changed: JSON.stringify(after) !== JSON.stringify(made),
      }).to.not.eql({failed: false, changed: false});
    });
  });
}
