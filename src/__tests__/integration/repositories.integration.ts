import {randomUUID} from 'crypto';
import {Context} from '@loopback/core';
import {securityId} from '@loopback/security';
import {SecurityBindings} from '@loopback/security';
import {expect} from '@loopback/testlab';
import {Entity} from '@loopback/repository';
import {
  ClientApp,
  ClientAppRepository,
  defineClientAppRepository,
  defineWebhookSubscriptionRepository,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryKey,
  WebhookSubscription,
  WebhookSubscriptionRepository,
} from '../../connectors/http';
import {
  CommandRun,
  Event,
  EventReceipt,
  EventType,
  EventWorkflow,
  EventWorkflowRun,
  OutboxEvent,
  OutboxEventKey,
  Task,
  TaskPriority,
  TaskSeverity,
  TaskStart,
  TaskStatus,
  TaskWorkflow,
  UserTask,
  UserTaskStatus,
  Workflow,
  WorkflowVersion,
} from '../../models';
import {
  defineEventRepository,
  EventRepository,
  EventWorkflowRepository,
  JUGGLER_REPOSITORIES,
  repositoryOn,
  SEQUELIZE_REPOSITORIES,
  TaskRepository,
  TaskWorkflowRepository,
  UserTaskRepository,
  WorkflowRepository,
  WorkflowVersionRepository,
} from '../../repositories';
import {TaskDataSource, TaskSqlBindings, TransactionRunner} from '../../sql';
import {DEFAULT_SYSTEM_USER} from '../../types';
import {givenTestApp, TestApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';

for (const cell of dataCells()) {
  describe(`Repositories on ${cell.name}: every model matches its table`, () => {
    let db: CellDatabase;
    let t: TestApp;

    before(async () => {
      db = await givenCellDatabase(cell);
      // The HTTP connector's repositories, bound here as its component would.
      t = await givenTestApp({
        db,
        after: app => {
          const bases =
            cell.orm === 'sequelize'
              ? SEQUELIZE_REPOSITORIES
              : JUGGLER_REPOSITORIES;
          app.repository(repositoryOn(bases, defineClientAppRepository));
          app.repository(
            repositoryOn(bases, defineWebhookSubscriptionRepository),
          );
        },
      });
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });

    function repo<R>(cls: new (...args: never[]) => R): Promise<R> {
      return t.app.get<R>(`repositories.${cls.name}`);
    }

    it('writes and reads a task with every column, and its user tasks', async () => {
      const tasks = await repo(TaskRepository);
      const userTasks = await repo(UserTaskRepository);
      const due = new Date('2030-01-02T03:04:05.000Z');
      const task = await tasks.create({
        key: 'review',
        name: 'Review',
        description: 'Review the document',
        status: TaskStatus.InProgress,
        priority: TaskPriority.High,
        severity: TaskSeverity.Low,
        type: 'doc',
        startDate: new Date('2030-01-01T00:00:00.000Z'),
        dueDate: due,
        endDate: new Date('2030-01-03T00:00:00.000Z'),
        assigneeId: 'user-9',
        metadata: {nested: {a: 1}, list: [1, 2]},
        externalId: 'instance-1',
      });
      expect(task.id).to.match(/^[0-9a-f-]{36}$/);
      const read = await tasks.findById(task.id!);
      expect(read).to.containDeep({
        key: 'review',
        status: 'in progress',
        priority: 'high',
        severity: 'low',
        type: 'doc',
        assigneeId: 'user-9',
        metadata: {nested: {a: 1}, list: [1, 2]},
        externalId: 'instance-1',
        createdBy: DEFAULT_SYSTEM_USER.id,
        modifiedBy: DEFAULT_SYSTEM_USER.id,
        deleted: false,
      });
      expect(read.dueDate).to.eql(due);
      expect(read.createdOn).to.be.instanceOf(Date);

      const userTask = await userTasks.create({
        taskId: task.id!,
        name: 'Check',
        externalId: 'ut-1',
      });
      expect(userTask.status).to.equal(UserTaskStatus.Pending);
      const withRelations = await tasks.findById(task.id!, {
        include: ['userTasks'],
      });
      expect(withRelations.userTasks).to.have.length(1);
      expect(withRelations.userTasks![0]).to.containDeep({
        name: 'Check',
        externalId: 'ut-1',
        taskId: task.id,
      });
    });

    it('refuses a second row for the same engine user task', async () => {
      const tasks = await repo(TaskRepository);
      const userTasks = await repo(UserTaskRepository);
      const task = await tasks.create({key: 'k', name: 'n'});
      await userTasks.create({
        taskId: task.id!,
        name: 'a',
        externalId: 'dup-1',
      });
      const refused = await userTasks
        .create({taskId: task.id!, name: 'a', externalId: 'dup-1'})
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      // The driver's unique violation: thrown as it is by the juggler,
      // wrapped (as `original`) by Sequelize; the dialect reads both.
      expect(refused).to.be.ok();
      expect(userTasks.sql.dialect.isUniqueViolation(refused)).to.be.true();
      expect(
        String((refused as {original?: Error}).original ?? refused),
      ).to.match(/duplicate/i);
    });

    it('writes and reads events with a bigint timestamp and a json payload', async () => {
      const events = await repo(EventRepository);
      const timestamp = 1_767_225_600_123;
      const event = await events.create({
        key: 'order.created',
        description: 'An order',
        source: 'shop',
        payload: {orderId: 7, items: ['a']},
        timestamp,
      });
      const read = await events.findById(event.id!);
      expect(read.timestamp).to.equal(timestamp);
      expect(typeof read.timestamp).to.equal('number');
      expect(read.payload).to.eql({orderId: 7, items: ['a']});
      const found = await events.find({
        where: {timestamp: {gt: timestamp - 1}},
      });
      expect(found.map(e => e.id)).to.containEql(event.id);
    });

    it('writes and reads both mappings', async () => {
      const eventWorkflows = await repo(EventWorkflowRepository);
      const taskWorkflows = await repo(TaskWorkflowRepository);
      const e = await eventWorkflows.create({
        eventKey: 'ev',
        workflowKey: 'wf:1:x',
      });
      const tw = await taskWorkflows.create({
        taskKey: 'tk',
        workflowKey: 'wf:2:y',
      });
      expect(await eventWorkflows.findById(e.id!)).to.containDeep({
        eventKey: 'ev',
        workflowKey: 'wf:1:x',
      });
      expect(await taskWorkflows.findById(tw.id!)).to.containDeep({
        taskKey: 'tk',
        workflowKey: 'wf:2:y',
      });
    });

    it('writes and reads a workflow with its versions', async () => {
      const workflows = await repo(WorkflowRepository);
      const versions = await repo(WorkflowVersionRepository);
      const wf = await workflows.create({
        name: 'wf',
        description: 'd',
        workflowVersion: 1,
        externalIdentifier: 'wf:1:abc',
        provider: 'camunda',
        inputSchema: {type: 'object', required: ['a']},
      });
      await versions.create({
        workflowId: wf.id!,
        version: 1,
        bpmnDiagram: '<xml/>',
        externalWorkflowId: 'wf:1:abc',
        inputSchema: {type: 'object'},
      });
      const read = await workflows.findById(wf.id!, {
        include: ['workflowVersions'],
      });
      expect(read).to.containDeep({
        name: 'wf',
        workflowVersion: 1,
        externalIdentifier: 'wf:1:abc',
        provider: 'camunda',
        inputSchema: {type: 'object', required: ['a']},
      });
      expect(read.workflowVersions).to.have.length(1);
      expect(read.workflowVersions![0]).to.containDeep({
        version: 1,
        bpmnDiagram: '<xml/>',
        inputSchema: {type: 'object'},
      });
    });

    it('writes and reads client apps (secret hidden from JSON) and webhook subscriptions', async () => {
      const apps = await repo(ClientAppRepository);
      const subs = await repo(WebhookSubscriptionRepository);
      const client = await apps.create({
        name: 'shop',
        apiKey: 'shop-key',
        apiSecret: 's3cret',
      });
      const read = await apps.findById(client.id!);
      expect(read.apiSecret).to.equal('s3cret');
      expect(new ClientApp(read).toJSON()).to.not.have.property('apiSecret');
      const sub = await subs.create({
        key: EventType.TaskCreated,
        url: 'http://127.0.0.1:1/hook',
        clientAppId: client.id!,
      });
      expect(await subs.findById(sub.id!)).to.containDeep({
        key: 'task-created',
        clientAppId: client.id,
      });
    });

    it('fills the audit columns from the current user', async () => {
      const ctx = new Context(t.app);
      ctx
        .bind(SecurityBindings.USER)
        .to({[securityId]: 'u-42', id: 'u-42', permissions: []});
      const tasks = await ctx.get<TaskRepository>(
        'repositories.TaskRepository',
      );
      const task = await tasks.create({key: 'audited', name: 'a'});
      expect(task.createdBy).to.equal('u-42');
      await tasks.updateById(task.id!, {name: 'b'});
      const read = await tasks.findById(task.id!);
      expect(read.modifiedBy).to.equal('u-42');
      expect(read.modifiedOn!.getTime()).to.be.greaterThanOrEqual(
        read.createdOn!.getTime(),
      );
    });

    it('soft delete hides rows from every read; hard delete removes them', async () => {
      const tasks = await repo(TaskRepository);
      const a = await tasks.create({key: 'soft', name: 'a'});
      const b = await tasks.create({key: 'soft', name: 'b'});
      await tasks.deleteById(a.id!);
      expect((await tasks.find({where: {key: 'soft'}})).map(x => x.id)).to.eql([
        b.id,
      ]);
      expect((await tasks.count({key: 'soft'})).count).to.equal(1);
      expect(await tasks.exists(a.id!)).to.be.false();
      expect(await tasks.exists(b.id!)).to.be.true();
      expect(await tasks.exists(randomUUID())).to.be.false();
      await expect(tasks.findById(a.id!)).to.be.rejectedWith({
        code: 'ENTITY_NOT_FOUND',
      });
      expect(await tasks.findOne({where: {id: a.id}})).to.be.null();
      const [row] = await db.rows<{
        deleted: boolean | number;
        deleted_by: string;
      }>('tasks', {columns: ['deleted', 'deleted_by'], where: {id: a.id}});
      // A boolean from PostgreSQL, TINYINT(1) 1 from MySQL.
      expect({...row, deleted: Boolean(row.deleted)}).to.eql({
        deleted: true,
        deleted_by: DEFAULT_SYSTEM_USER.id,
      });
      await tasks.deleteByIdHard(b.id!);
      expect(await db.rows('tasks', {where: {id: b.id}})).to.have.length(0);
    });

    it('includes only live related rows, and reads and writes inside a transaction', async () => {
      const tasks = await repo(TaskRepository);
      const userTasks = await repo(UserTaskRepository);
      const task = await tasks.create({key: 'rel', name: 'rel'});
      const kept = await userTasks.create({
        taskId: task.id!,
        name: 'kept',
        externalId: 'rel-1',
      });
      const gone = await userTasks.create({
        taskId: task.id!,
        name: 'gone',
        externalId: 'rel-2',
      });
      await userTasks.deleteById(gone.id!);
      const [found] = await tasks.find({
        where: {id: task.id},
        include: ['userTasks'],
      });
      expect(found.userTasks!.map(u => u.id)).to.eql([kept.id]);
      expect((await tasks.userTasks(task.id!).find()).map(u => u.id)).to.eql([
        kept.id,
      ]);

      // A write in a transaction is seen inside it, and gone after a rollback.
      const transactions = await t.app.get<TransactionRunner>(
        TaskSqlBindings.TASK_TRANSACTIONS,
      );
      const rolledBack = await transactions
        .run(async options => {
          const inside = await tasks.create({key: 'tx', name: 'tx'}, options);
          await tasks.lockById(inside.id!, options);
          expect(
            (await tasks.findById(inside.id!, undefined, options)).name,
          ).to.equal('tx');
          throw new Error(`undo ${inside.id}`);
        })
        .catch((err: Error) => err.message.replace('undo ', ''));
      expect(await tasks.exists(rolledBack)).to.be.false();
      expect(await db.rows('tasks', {where: {id: rolledBack}})).to.have.length(
        0,
      );
    });

    it('replaceById makes the row what it is given: a property left out is emptied, the creation columns stay', async () => {
      const tasks = await repo(TaskRepository);
      const task = await tasks.create({
        key: 'replace',
        name: 'before',
        description: 'goes',
      });
      const before = await tasks.findById(task.id!);
      await tasks.replaceById(task.id!, {key: 'replace', name: 'after'});
      const after = await tasks.findById(task.id!);
      expect(after.name).to.equal('after');
      expect(after.description ?? null).to.be.null();
      expect(after.modifiedBy).to.equal(DEFAULT_SYSTEM_USER.id);
      expect(after.createdOn).to.eql(before.createdOn);
      expect(after.createdBy).to.equal(before.createdBy);
      await expect(
        tasks.replaceById('00000000-0000-4000-8000-000000000000', {
          key: 'x',
          name: 'x',
        }),
      ).to.be.rejectedWith({code: 'ENTITY_NOT_FOUND'});
    });

    it('a repository of the other ORM refuses this datasource and says which setting to change', async () => {
      const ds = await t.app.get<TaskDataSource>(
        TaskSqlBindings.TASK_DATASOURCE,
      );
      const other = repositoryOn(
        cell.orm === 'sequelize'
          ? JUGGLER_REPOSITORIES
          : SEQUELIZE_REPOSITORIES,
        defineEventRepository,
      );
      expect(() => new other(ds)).to.throw(/useSequelize: true/);
    });

    it('every model, those of the tables only the SQL stores write included, matches its table column for column', async () => {
      const models: (typeof Entity)[] = [
        Task,
        UserTask,
        Event,
        EventWorkflow,
        TaskWorkflow,
        Workflow,
        WorkflowVersion,
        OutboxEvent,
        OutboxEventKey,
        CommandRun,
        EventReceipt,
        EventWorkflowRun,
        TaskStart,
        ClientApp,
        WebhookSubscription,
        WebhookDelivery,
        WebhookDeliveryAttempt,
        WebhookDeliveryKey,
      ];
      for (const model of models) {
        const settings = model.definition.settings[db.kind] as {table: string};
        const columns = await db.columnsOf(settings.table);
        const mapped = Object.values(model.definition.properties).map(
          p => (p[db.kind] as {columnName: string}).columnName,
        );
        expect({table: settings.table, columns: mapped.sort()}).to.eql({
          table: settings.table,
          columns: columns.sort(),
        });
      }
    });
  });
}
