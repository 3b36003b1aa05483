import {Client, expect} from '@loopback/testlab';
import {IWorkflowManager} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {TaskPriority} from '../../models';
import {TaskRepository, UserTaskRepository} from '../../repositories';
import {givenTestApp, TestApp} from '../fixtures/app';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/** Records what the routes ask of the engine; the real engine is proven in the workflow tests. */
class EngineSpy implements Partial<IWorkflowManager> {
  deleted: string[] = [];
  failFor = new Set<string>();
  async deleteInstance(id: string) {
    if (this.failFor.has(id)) throw new Error('engine down');
    this.deleted.push(id);
  }
}

describe('Tasks, user tasks and events over HTTP (PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let client: Client;
  let tasks: TaskRepository;
  let userTasks: UserTaskRepository;
  const engine = new EngineSpy();
  const admin = bearer(tokenWith(ALL_PERMISSIONS));

  before(async () => {
    db = await TestDatabase.create();
    t = await givenTestApp({
      db,
      after: app =>
        app
          .bind(TaskServiceBindings.WORKFLOW_MANAGER)
          .to(engine as unknown as IWorkflowManager),
    });
    client = t.client;
    tasks = await t.app.get('repositories.TaskRepository');
    userTasks = await t.app.get('repositories.UserTaskRepository');
  });
  after(async () => {
    await t?.stop();
    await db?.drop();
  });
  beforeEach(async () => {
    await db.query(
      'DELETE FROM main.user_tasks; DELETE FROM main.tasks; DELETE FROM main.events; DELETE FROM main.task_workflows; DELETE FROM main.event_workflows',
    );
  });

  async function givenTask(data: object = {}) {
    return tasks.create({key: 'review', name: 'Review', ...data});
  }

  describe('authentication and authorization', () => {
    it('401 without a token, with a bad one, an expired one, or a wrong issuer', async () => {
      await client.get('/tasks').expect(401);
      await client
        .get('/tasks')
        .set({Authorization: 'Bearer nonsense'})
        .expect(401);
      await client.get('/tasks').set({Authorization: 'Basic abc'}).expect(401);
      const expired = tokenWith(ALL_PERMISSIONS, {}, {expiresIn: -10});
      const res = await client.get('/tasks').set(bearer(expired)).expect(401);
      expect(res.body.error.message).to.match(/expired/);
      const otherIssuer = tokenWith(
        ALL_PERMISSIONS,
        {},
        {issuer: 'someone-else'},
      );
      await client.get('/tasks').set(bearer(otherIssuer)).expect(401);
    });

    it('403 when the token lacks the permission; numeric key or name both grant it', async () => {
      await client
        .get('/tasks')
        .set(bearer(tokenWith(['16004'])))
        .expect(403);
      await client
        .get('/tasks')
        .set(bearer(tokenWith(['16003'])))
        .expect(200);
      await client
        .get('/tasks')
        .set(bearer(tokenWith(['ViewTask'])))
        .expect(200);
    });

    it('POST /events/mapping admits any valid token', async () => {
      await client
        .post('/events/mapping')
        .set(bearer(tokenWith([])))
        .send({eventKey: 'e', workflowKey: 'w'})
        .expect(200);
      await client
        .post('/events/mapping')
        .send({eventKey: 'e', workflowKey: 'w'})
        .expect(401);
    });

    it('declares the bearer scheme in the OpenAPI document', async () => {
      const res = await client.get('/openapi.json').expect(200);
      expect(res.body.components.securitySchemes.HTTPBearer).to.eql({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      });
      expect(res.body.security).to.eql([{HTTPBearer: []}]);
      expect(Object.keys(res.body.paths)).to.containDeep([
        '/tasks',
        '/tasks/{id}',
        '/tasks/count',
        '/tasks/mapping',
        '/tasks/{taskId}/user-tasks',
        '/tasks/{taskId}/user-tasks/{userTaskId}/complete',
        '/events',
        '/events/mapping',
      ]);
    });
  });

  describe('bad input is a 400 with a message, never a 500 or a silent match-all', () => {
    it('a malformed id in the path', async () => {
      const res = await client.get('/tasks/not-a-uuid').set(admin).expect(400);
      expect(JSON.stringify(res.body.error)).to.match(/uuid/);
      await client.del('/tasks/not-a-uuid').set(admin).expect(400);
      await client.get('/tasks/not-a-uuid/user-tasks').set(admin).expect(400);
      await client.get('/events/42').set(admin).expect(400);
    });

    it('a misspelt property in a where clause does not delete or change every task', async () => {
      await givenTask({key: 'keep-me'});
      const del = await client
        .del('/tasks')
        .query({where: JSON.stringify({keyy: 'x'})})
        .set(admin)
        .expect(400);
      expect(del.body.error.message).to.match(
        /Unknown tasks property in the filter: keyy/,
      );
      await client
        .patch('/tasks')
        .query({where: JSON.stringify({or: [{key: 'a'}, {nme: 'b'}]})})
        .set(admin)
        .send({priority: 'low'})
        .expect(400);
      expect(await db.query('SELECT key, priority FROM main.tasks')).to.eql([
        {key: 'keep-me', priority: null},
      ]);
    });

    it('an unknown order property and a malformed value in a where', async () => {
      await client
        .get('/tasks')
        .query({filter: JSON.stringify({order: ['bogus DESC']})})
        .set(admin)
        .expect(400);
      const res = await client
        .get('/tasks')
        .query({filter: JSON.stringify({where: {id: 'x'}})})
        .set(admin)
        .expect(400);
      expect(res.body.error.message).to.match(/Invalid value/);
    });
  });

  describe('GET /tasks', () => {
    it('lists, filters, counts and reads one task with its user tasks', async () => {
      const a = await givenTask({key: 'a', priority: 'high'});
      await givenTask({key: 'b', priority: 'low'});
      await userTasks.create({taskId: a.id!, name: 'step', externalId: 'x-1'});
      const all = await client.get('/tasks').set(admin).expect(200);
      expect(all.body).to.have.length(2);
      const filtered = await client
        .get('/tasks')
        .query({
          filter: JSON.stringify({
            where: {priority: 'high'},
            include: ['userTasks'],
          }),
        })
        .set(admin)
        .expect(200);
      expect(filtered.body).to.have.length(1);
      expect(filtered.body[0]).to.containDeep({
        key: 'a',
        userTasks: [{name: 'step'}],
      });
      const count = await client
        .get('/tasks/count')
        .query({where: JSON.stringify({key: 'b'})})
        .set(admin)
        .expect(200);
      expect(count.body).to.eql({count: 1});
      const one = await client.get(`/tasks/${a.id}`).set(admin).expect(200);
      expect(one.body).to.containDeep({id: a.id, key: 'a', status: 'pending'});
    });

    it('404 for an unknown task and 400 for a malformed filter', async () => {
      await client
        .get('/tasks/00000000-0000-0000-0000-0000000000ff')
        .set(admin)
        .expect(404);
      await client
        .get('/tasks')
        .query({filter: '{not json'})
        .set(admin)
        .expect(400);
    });

    it('hides soft-deleted tasks', async () => {
      const a = await givenTask();
      await tasks.deleteById(a.id!);
      const res = await client.get('/tasks').set(admin).expect(200);
      expect(res.body).to.eql([]);
      await client.get(`/tasks/${a.id}`).set(admin).expect(404);
    });
  });

  describe('POST /tasks/mapping', () => {
    it('maps a task key to a workflow once, however often it is posted', async () => {
      const body = {taskKey: 'review', workflowKey: 'review-flow:1:abc'};
      const first = await client
        .post('/tasks/mapping')
        .set(admin)
        .send(body)
        .expect(200);
      expect(first.body).to.containDeep(body);
      const second = await client
        .post('/tasks/mapping')
        .set(admin)
        .send(body)
        .expect(200);
      expect(second.body.id).to.equal(first.body.id);
      expect(
        await db.query('SELECT * FROM main.task_workflows'),
      ).to.have.length(1);
    });

    it('422 with the reason for a body without a workflow key or with unknown fields', async () => {
      const res = await client
        .post('/tasks/mapping')
        .set(admin)
        .send({taskKey: 'x'})
        .expect(422);
      expect(JSON.stringify(res.body.error.details)).to.match(/workflowKey/);
      await client
        .post('/tasks/mapping')
        .set(admin)
        .send({taskKey: 'x', workflowKey: 'y', id: 'z'})
        .expect(422);
    });
  });

  describe('PATCH /tasks', () => {
    it('updates one task and copies a status change to its open user tasks', async () => {
      const a = await givenTask();
      const open = await userTasks.create({
        taskId: a.id!,
        name: 'open',
        externalId: 'p-1',
      });
      const done = await userTasks.create({
        taskId: a.id!,
        name: 'done',
        externalId: 'p-2',
        status: 'completed' as never,
      });
      await client
        .patch(`/tasks/${a.id}`)
        .set(bearer(tokenWith(['16011'], {id: 'editor-7'})))
        .send({status: 'in progress', assigneeId: 'u-3'})
        .expect(204);
      const read = await tasks.findById(a.id!);
      expect(read).to.containDeep({
        status: 'in progress',
        assigneeId: 'u-3',
        modifiedBy: 'editor-7',
      });
      expect((await userTasks.findById(open.id!)).status).to.equal(
        'in progress',
      );
      expect((await userTasks.findById(done.id!)).status).to.equal('completed');
    });

    it('refuses completion through PATCH with the message of the contract', async () => {
      const a = await givenTask();
      const res = await client
        .patch(`/tasks/${a.id}`)
        .set(admin)
        .send({status: 'completed'})
        .expect(400);
      expect(res.body.error.message).to.equal(
        'Task completion cannot be done through the PATCH API.',
      );
      const many = await client
        .patch('/tasks')
        .set(admin)
        .send({status: 'completed'})
        .expect(400);
      expect(many.body.error.message).to.equal(
        'Task completion cannot be done through the PATCH API.',
      );
      expect((await tasks.findById(a.id!)).status).to.equal('pending');
    });

    it('PATCH /tasks?where= returns the count', async () => {
      await givenTask({key: 'x'});
      await givenTask({key: 'x'});
      await givenTask({key: 'y'});
      const res = await client
        .patch('/tasks')
        .query({where: JSON.stringify({key: 'x'})})
        .set(admin)
        .send({priority: 'low'})
        .expect(200);
      expect(res.body).to.eql({count: 2});
      expect((await tasks.count({priority: TaskPriority.Low})).count).to.equal(
        2,
      );
    });

    it('404 for an unknown task, 422 for an invalid status, 403 without UpdateTask', async () => {
      await client
        .patch('/tasks/00000000-0000-0000-0000-0000000000ff')
        .set(admin)
        .send({name: 'x'})
        .expect(404);
      const a = await givenTask();
      await client
        .patch(`/tasks/${a.id}`)
        .set(admin)
        .send({status: 'finished'})
        .expect(422);
      await client
        .patch(`/tasks/${a.id}`)
        .set(bearer(tokenWith(['16003'])))
        .send({name: 'x'})
        .expect(403);
    });
  });

  describe('DELETE /tasks', () => {
    it('deletes a task, its user tasks and its workflow instance (cascade by default)', async () => {
      const a = await givenTask({externalId: 'inst-a'});
      await userTasks.create({taskId: a.id!, name: 'u', externalId: 'd-1'});
      await client.del(`/tasks/${a.id}`).set(admin).expect(204);
      expect(await db.query('SELECT id FROM main.tasks')).to.eql([]);
      expect(await db.query('SELECT id FROM main.user_tasks')).to.eql([]);
      expect(engine.deleted).to.containEql('inst-a');
    });

    it('still deletes the rows when the engine cannot delete the instance (logged)', async () => {
      const a = await givenTask({externalId: 'inst-broken'});
      engine.failFor.add('inst-broken');
      await client.del(`/tasks/${a.id}`).set(admin).expect(204);
      expect(await db.query('SELECT id FROM main.tasks')).to.eql([]);
    });

    it('cascade=false refuses a task that has user tasks and leaves the instance alone', async () => {
      const a = await givenTask({externalId: 'inst-keep'});
      await userTasks.create({taskId: a.id!, name: 'u', externalId: 'd-2'});
      const res = await client
        .del(`/tasks/${a.id}`)
        .query({cascade: false})
        .set(admin)
        .expect(409);
      expect(res.body.error.message).to.match(/cascade=true/);
      const b = await givenTask({externalId: 'inst-b'});
      await client
        .del(`/tasks/${b.id}`)
        .query({cascade: false})
        .set(admin)
        .expect(204);
      expect(engine.deleted).to.not.containEql('inst-keep');
      expect(engine.deleted).to.not.containEql('inst-b');
    });

    it('DELETE /tasks?where= deletes the matching tasks and returns the count', async () => {
      await givenTask({key: 'gone'});
      await givenTask({key: 'gone'});
      await givenTask({key: 'kept'});
      const res = await client
        .del('/tasks')
        .query({where: JSON.stringify({key: 'gone'})})
        .set(admin)
        .expect(200);
      expect(res.body).to.eql({count: 2});
      expect(
        (await db.query('SELECT key FROM main.tasks')).map(r => r.key),
      ).to.eql(['kept']);
    });

    it('404 for an unknown task, 403 without DeleteTask', async () => {
      await client
        .del('/tasks/00000000-0000-0000-0000-0000000000ff')
        .set(admin)
        .expect(404);
      const a = await givenTask();
      await client
        .del(`/tasks/${a.id}`)
        .set(bearer(tokenWith(['16003'])))
        .expect(403);
    });
  });

  describe('/tasks/{taskId}/user-tasks', () => {
    it('lists, counts and reads the user tasks of one task only', async () => {
      const a = await givenTask();
      const b = await givenTask();
      const mine = await userTasks.create({
        taskId: a.id!,
        name: 'mine',
        externalId: 'm-1',
      });
      const theirs = await userTasks.create({
        taskId: b.id!,
        name: 'theirs',
        externalId: 'm-2',
      });
      const perm = bearer(tokenWith(['16004']));
      const list = await client
        .get(`/tasks/${a.id}/user-tasks`)
        .set(perm)
        .expect(200);
      expect(list.body.map((u: {name: string}) => u.name)).to.eql(['mine']);
      const count = await client
        .get(`/tasks/${a.id}/user-tasks/count`)
        .set(perm)
        .expect(200);
      expect(count.body).to.eql({count: 1});
      const filtered = await client
        .get(`/tasks/${a.id}/user-tasks`)
        .query({filter: JSON.stringify({where: {taskId: b.id}})})
        .set(perm)
        .expect(200);
      expect(filtered.body).to.eql([]);
      await client
        .get(`/tasks/${a.id}/user-tasks/${mine.id}`)
        .set(perm)
        .expect(200);
      const missing = await client
        .get(`/tasks/${a.id}/user-tasks/${theirs.id}`)
        .set(perm)
        .expect(404);
      expect(missing.body.error.message).to.equal('User Task not found');
      await client
        .get(`/tasks/${a.id}/user-tasks`)
        .set(bearer(tokenWith(['16003'])))
        .expect(403);
    });

    it('complete needs the user task to belong to the task in the path', async () => {
      const a = await givenTask();
      const b = await givenTask();
      const theirs = await userTasks.create({
        taskId: b.id!,
        name: 'theirs',
        externalId: 'c-1',
      });
      const res = await client
        .patch(`/tasks/${a.id}/user-tasks/${theirs.id}/complete`)
        .set(bearer(tokenWith(['16005'])))
        .expect(404);
      expect(res.body.error.message).to.equal('User Task not found');
      await client
        .patch(`/tasks/${a.id}/user-tasks/${theirs.id}/complete`)
        .set(bearer(tokenWith(['16004'])))
        .expect(403);
    });

    it('deletes one user task or all of a task', async () => {
      const a = await givenTask();
      const one = await userTasks.create({
        taskId: a.id!,
        name: 'one',
        externalId: 'del-1',
      });
      await userTasks.create({taskId: a.id!, name: 'two', externalId: 'del-2'});
      const perm = bearer(tokenWith(['16009']));
      await client
        .del(`/tasks/${a.id}/user-tasks/${one.id}`)
        .set(perm)
        .expect(204);
      await client
        .del(`/tasks/${a.id}/user-tasks/${one.id}`)
        .set(perm)
        .expect(404);
      const res = await client
        .del(`/tasks/${a.id}/user-tasks`)
        .set(perm)
        .expect(200);
      expect(res.body).to.eql({count: 1});
      expect(await db.query('SELECT id FROM main.user_tasks')).to.eql([]);
    });
  });

  describe('/events', () => {
    it('lists, filters, counts and reads stored events', async () => {
      const events = await t.app.get<
        import('../../repositories').EventRepository
      >('repositories.EventRepository');
      const e1 = await events.create({
        key: 'a',
        timestamp: 1000,
        payload: {n: 1},
        source: 's',
      });
      await events.create({
        key: 'b',
        timestamp: 2000,
        payload: {n: 2},
        source: 's',
      });
      const perm = bearer(tokenWith(['16002']));
      const list = await client
        .get('/events')
        .query({filter: JSON.stringify({where: {timestamp: {gt: 1500}}})})
        .set(perm)
        .expect(200);
      expect(list.body).to.containDeep([
        {key: 'b', timestamp: 2000, payload: {n: 2}},
      ]);
      expect(list.body).to.have.length(1);
      const count = await client.get('/events/count').set(perm).expect(200);
      expect(count.body).to.eql({count: 2});
      const one = await client.get(`/events/${e1.id}`).set(perm).expect(200);
      expect(one.body).to.containDeep({key: 'a', payload: {n: 1}});
      await client
        .get('/events')
        .set(bearer(tokenWith(['16003'])))
        .expect(403);
    });

    it('maps an event key to a workflow once', async () => {
      const body = {eventKey: 'order.created', workflowKey: 'order-flow:1:x'};
      const first = await client
        .post('/events/mapping')
        .set(admin)
        .send(body)
        .expect(200);
      const second = await client
        .post('/events/mapping')
        .set(admin)
        .send(body)
        .expect(200);
      expect(second.body.id).to.equal(first.body.id);
      await client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey: 'x'})
        .expect(422);
    });
  });
});
