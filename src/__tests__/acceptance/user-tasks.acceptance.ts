import {Client, expect} from '@loopback/testlab';
import {TaskRepository, UserTaskRepository} from '../../repositories';
import {CellDatabase, dataCells} from '../fixtures/matrix';
import {TaskApi, withTaskApi} from '../fixtures/task-api';
import {bearer, tokenWith} from '../fixtures/tokens';

for (const cell of dataCells()) {
  describe(`User tasks over HTTP (${cell.name})`, () => {
    const api = withTaskApi(cell);
    let db: CellDatabase;
    let client: Client;
    let tasks: TaskRepository;
    let userTasks: UserTaskRepository;
    let givenTask: TaskApi['givenTask'];

    before(() => {
      ({db, client, tasks, userTasks, givenTask} = api);
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

      it('reads of an unknown or deleted task are a 404 that names the task; of a task with none, empty', async () => {
        const perm = bearer(tokenWith(['16004']));
        const none = await givenTask();
        const gone = await givenTask();
        await tasks.deleteById(gone.id!);
        const unknown = '00000000-0000-4000-8000-000000000000';
        const userTaskId = '00000000-0000-4000-8000-000000000001';
        const answers = async (taskId: string) => {
          const list = await client
            .get(`/tasks/${taskId}/user-tasks`)
            .set(perm);
          const count = await client
            .get(`/tasks/${taskId}/user-tasks/count`)
            .set(perm);
          const one = await client
            .get(`/tasks/${taskId}/user-tasks/${userTaskId}`)
            .set(perm);
          return [list, count, one].map(r => [
            r.status,
            r.status === 200 ? r.body : r.body.error.message,
          ]);
        };
        expect(await answers(unknown)).to.eql([
          [404, 'Task not found'],
          [404, 'Task not found'],
          [404, 'Task not found'],
        ]);
        expect(await answers(gone.id!)).to.eql([
          [404, 'Task not found'],
          [404, 'Task not found'],
          [404, 'Task not found'],
        ]);
        expect(await answers(none.id!)).to.eql([
          [200, []],
          [200, {count: 0}],
          [404, 'User Task not found'],
        ]);
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
        await userTasks.create({
          taskId: a.id!,
          name: 'two',
          externalId: 'del-2',
        });
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
        expect(await db.rows('user_tasks')).to.eql([]);
      });
    });
  });
}
