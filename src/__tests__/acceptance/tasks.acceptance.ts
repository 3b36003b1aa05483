import {Client, expect} from '@loopback/testlab';
import {TaskPriority} from '../../models';
import {TaskRepository, UserTaskRepository} from '../../repositories';
import {CellDatabase, dataCells} from '../fixtures/matrix';
import {EngineSpy, TaskApi, withTaskApi} from '../fixtures/task-api';
import {bearer, tokenWith} from '../fixtures/tokens';

for (const cell of dataCells()) {
  describe(`Tasks over HTTP (${cell.name})`, () => {
    const api = withTaskApi(cell);
    let db: CellDatabase;
    let client: Client;
    let tasks: TaskRepository;
    let userTasks: UserTaskRepository;
    let engine: EngineSpy;
    let givenTask: TaskApi['givenTask'];
    const admin = api.admin;

    before(() => {
      ({db, client, tasks, userTasks, engine, givenTask} = api);
    });

    describe('bad input is a 400 with a message, never a 500 or a silent match-all', () => {
      it('a malformed id in the path', async () => {
        const res = await client
          .get('/tasks/not-a-uuid')
          .set(admin)
          .expect(400);
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
        expect(await db.rows('tasks', {columns: ['key', 'priority']})).to.eql([
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
      it('matches a regexp filter on every database, case-sensitive unless it says i', async () => {
        for (const key of ['alpha-1', 'Alpha-2', 'beta'])
          await givenTask({key});
        const keysFor = async (regexp: string) => {
          const res = await client
            .get('/tasks')
            .query({
              filter: JSON.stringify({
                where: {key: {regexp}},
                order: ['key ASC'],
              }),
            })
            .set(admin)
            .expect(200);
          return (res.body as {key: string}[]).map(t => t.key).sort();
        };
        expect(await keysFor('^alpha')).to.eql(['alpha-1']);
        expect(await keysFor('/^alpha/i')).to.eql(['Alpha-2', 'alpha-1']);
        expect(await keysFor('a-[0-9]$')).to.eql(['Alpha-2', 'alpha-1']);
        expect(await keysFor('(a+)+$')).to.eql(['beta']);
      });

      it('lists, filters, counts and reads one task with its user tasks', async () => {
        const a = await givenTask({key: 'a', priority: 'high'});
        await givenTask({key: 'b', priority: 'low'});
        await userTasks.create({
          taskId: a.id!,
          name: 'step',
          externalId: 'x-1',
        });
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
        expect(one.body).to.containDeep({
          id: a.id,
          key: 'a',
          status: 'pending',
        });
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
        expect(await db.rows('task_workflows')).to.have.length(1);
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
        expect((await userTasks.findById(done.id!)).status).to.equal(
          'completed',
        );
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
        expect(
          (await tasks.count({priority: TaskPriority.Low})).count,
        ).to.equal(2);
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
        expect(await db.rows('tasks')).to.eql([]);
        expect(await db.rows('user_tasks')).to.eql([]);
        expect(engine.deleted).to.containEql('inst-a');
      });

      it('still deletes the rows when the engine cannot delete the instance (logged)', async () => {
        const a = await givenTask({externalId: 'inst-broken'});
        engine.failFor.add('inst-broken');
        await client.del(`/tasks/${a.id}`).set(admin).expect(204);
        expect(await db.rows('tasks')).to.eql([]);
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
          (await db.rows('tasks', {columns: ['key']})).map(r => r.key),
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
  });
}
