import {Context} from '@loopback/core';
import {securityId} from '@loopback/security';
import {SecurityBindings} from '@loopback/security';
import {expect} from '@loopback/testlab';
import {
  ClientApp,
  ClientAppRepository,
  WebhookDelivery,
  WebhookDeliveryKey,
  WebhookSubscriptionRepository,
} from '../../connectors/http';
import {
  CommandRun,
  EventReceipt,
  EventType,
  EventWorkflowRun,
  OutboxEvent,
  OutboxEventKey,
  TaskPriority,
  TaskSeverity,
  TaskStart,
  TaskStatus,
  UserTaskStatus,
} from '../../models';
import {
  EventRepository,
  EventWorkflowRepository,
  TaskRepository,
  TaskWorkflowRepository,
  UserTaskRepository,
  WorkflowRepository,
  WorkflowVersionRepository,
} from '../../repositories';
import {DEFAULT_SYSTEM_USER} from '../../types';
import {givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';

describe('Repositories on PostgreSQL: every model matches its table', () => {
  let db: TestDatabase;
  let t: TestApp;

  before(async () => {
    db = await TestDatabase.create();
    // The HTTP connector's repositories, bound here as its component would.
    t = await givenTestApp({
      db,
      after: app => {
        app.repository(ClientAppRepository);
        app.repository(WebhookSubscriptionRepository);
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
    await userTasks.create({taskId: task.id!, name: 'a', externalId: 'dup-1'});
    await expect(
      userTasks.create({taskId: task.id!, name: 'a', externalId: 'dup-1'}),
    ).to.be.rejectedWith(/duplicate key/);
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
    const found = await events.find({where: {timestamp: {gt: timestamp - 1}}});
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
    const tasks = await ctx.get<TaskRepository>('repositories.TaskRepository');
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
    await expect(tasks.findById(a.id!)).to.be.rejectedWith({
      code: 'ENTITY_NOT_FOUND',
    });
    expect(await tasks.findOne({where: {id: a.id}})).to.be.null();
    const [row] = await db.query<{deleted: boolean; deleted_by: string}>(
      'SELECT deleted, deleted_by FROM main.tasks WHERE id = $1',
      [a.id],
    );
    expect(row).to.eql({deleted: true, deleted_by: DEFAULT_SYSTEM_USER.id});
    await tasks.deleteByIdHard(b.id!);
    expect(
      await db.query('SELECT 1 FROM main.tasks WHERE id = $1', [b.id]),
    ).to.have.length(0);
  });

  it('the models of the tables only the SQL stores write match them column for column', async () => {
    for (const model of [
      OutboxEvent,
      OutboxEventKey,
      CommandRun,
      EventReceipt,
      EventWorkflowRun,
      TaskStart,
      WebhookDelivery,
      WebhookDeliveryKey,
    ]) {
      const {table} = model.definition.settings.postgresql as {table: string};
      const columns = await db.query<{column_name: string}>(
        `SELECT column_name FROM information_schema.columns
          WHERE table_schema = 'main' AND table_name = $1`,
        [table],
      );
      const mapped = Object.values(model.definition.properties).map(
        p => (p.postgresql as {columnName: string}).columnName,
      );
      expect({table, columns: mapped.sort()}).to.eql({
        table,
        columns: columns.map(c => c.column_name).sort(),
      });
    }
  });
});
