import {
  DefaultTransactionalRepository,
  Entity,
  Filter,
} from '@loopback/repository';
import {expect, sinon} from '@loopback/testlab';
import {
  Event,
  Task,
  TaskPriority,
  TaskSeverity,
  TaskStatus,
  UserTask,
} from '../../models';
import {
  EventRepository,
  TaskRepository,
  UserTaskRepository,
} from '../../repositories';
import {JugglerTableRepository} from '../../repositories/service-table.repository';
import {givenTestApp, TestApp} from '../fixtures/app';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';

type AnyRepository = DefaultTransactionalRepository<Entity, unknown, {}> & {
  modelClass: {
    find: (...args: unknown[]) => unknown;
    getDataSource(): {connector?: object};
  };
};

type Read = 'find' | 'findOne';

/** `read` as `base` does it, on `repo`. */
function readOf<R extends Read>(
  base: {prototype: Pick<AnyRepository, Read>},
  read: R,
) {
  return (repo: unknown, filter?: Filter<Entity>) =>
    (
      base.prototype[read] as (
        filter?: Filter<Entity>,
      ) => ReturnType<AnyRepository[R]>
    ).call(repo as AnyRepository, filter);
}

/** On the direct path (the table base's own). */
const direct = readOf(JugglerTableRepository, 'find');
const directOne = readOf(JugglerTableRepository, 'findOne');
/** The juggler's whole way (model instances, notifications, `toObject`). */
const whole = readOf(DefaultTransactionalRepository, 'find');
const wholeOne = readOf(DefaultTransactionalRepository, 'findOne');

/** What a client is sent for the answer, or the error's message. */
async function answerOf(read: () => Promise<Entity[]>) {
  try {
    const found = await read();
    return {json: JSON.stringify(found), count: found.length};
  } catch (err) {
    return {error: (err as Error).message};
  }
}

const DAY = 86400000;
const T0 = Date.UTC(2026, 0, 1);

for (const cell of dataCells().filter(c => c.orm === 'juggler')) {
  describe(`Reads straight from the connector (${cell.name})`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    let tasks: TaskRepository;
    let events: EventRepository;
    let userTasks: UserTaskRepository;
    let taskIds: string[];

    before(async () => {
      db = await givenCellDatabase(cell);
      t = await givenTestApp({db});
      tasks = await t.app.getRepository(TaskRepository);
      events = await t.app.getRepository(EventRepository);
      userTasks = await t.app.getRepository(UserTaskRepository);
      taskIds = [];
      for (let i = 0; i < 6; i++) {
        const task = await tasks.create({
          key: i % 2 ? 'odd' : 'even',
          name: `Task ${i}`,
          // Some columns left empty: they must come back as the juggler gives them.
          ...(i % 3
            ? {
                description: `About ${i}`,
                priority: [TaskPriority.Low, TaskPriority.High][i % 2],
                severity: TaskSeverity.High,
                type: 'review',
                startDate: new Date(T0 + i * DAY).toISOString(),
                dueDate: new Date(T0 + (i + 7) * DAY).toISOString(),
                assigneeId: `user-${i}`,
                metadata: {n: i, nested: {list: [i, 'x', null]}},
                externalId: `ext-${i}`,
              }
            : {}),
        });
        taskIds.push(task.id!);
        await userTasks.create({
          taskId: task.id!,
          name: `Check ${i}`,
          externalId: `ut-${i}`,
        });
      }
      await tasks.deleteById(taskIds[5]);
      for (let i = 0; i < 8; i++) {
        await events.create({
          key: i % 2 ? 'e-odd' : 'e-even',
          source: 'test',
          description: i % 3 ? `Event ${i}` : undefined,
          payload: {i, text: 'ünïcode ✓', flag: i % 2 === 0},
          timestamp: T0 + i * 1000,
        });
      }
    });
    after(async () => {
      await t?.stop();
      await db?.drop();
    });

    const taskFilters = (): Filter<Task>[] => [
      {},
      {where: {key: 'odd'}},
      {where: {key: 'even', status: TaskStatus.Pending}, limit: 2},
      {where: {key: 'none'}},
      {order: ['priority DESC', 'name ASC']},
      {skip: 1, limit: 3, order: ['name DESC']},
      {where: {or: [{key: 'odd'}, {priority: TaskPriority.High}]}},
      {where: {priority: {inq: [TaskPriority.Low, TaskPriority.High]}}},
      {where: {name: {like: '%k 2%'}}},
      {where: {dueDate: {lt: new Date(T0 + 10 * DAY).toISOString() as never}}},
      {where: {startDate: {between: [T0, T0 + 3 * DAY] as never}}},
      {where: {deleted: true}},
      {where: {id: {inq: taskIds.slice(0, 3)}}},
      {where: {assigneeId: null as never}},
      {fields: {name: true, key: true}},
      {fields: {metadata: false}},
      {where: {nope: 1} as never},
      {limit: -1},
    ];
    const eventFilters = (): Filter<Event>[] => [
      {},
      {
        where: {key: 'e-even', timestamp: {between: [T0, T0 + 5000]}},
        order: ['timestamp DESC', 'id DESC'],
      },
      {where: {timestamp: {gt: String(T0 + 3000) as never}}},
      {where: {description: {neq: null as never}}, limit: 3},
    ];
    const userTaskFilters = (): Filter<UserTask>[] => [
      {where: {taskId: taskIds[1]}},
      {where: {taskId: {inq: taskIds}, deleted: false}, order: ['name ASC']},
    ];

    it('gives the juggler its answer for every filter, without its model instances', async () => {
      const cases: [unknown, Filter<Entity>][] = [
        ...taskFilters().map(
          f => [tasks, f as Filter<Entity>] as [unknown, Filter<Entity>],
        ),
        ...eventFilters().map(
          f => [events, f as Filter<Entity>] as [unknown, Filter<Entity>],
        ),
        ...userTaskFilters().map(
          f => [userTasks, f as Filter<Entity>] as [unknown, Filter<Entity>],
        ),
      ];
      const theirFinds = sinon.spy(
        (tasks as unknown as AnyRepository).modelClass,
        'find',
      );
      try {
        for (const [repo, filter] of cases) {
          // Each its own copy: the juggler writes into the filter it is given.
          const ours = await answerOf(() =>
            direct(repo, structuredClone(filter)),
          );
          const theirs = await answerOf(() =>
            whole(repo, structuredClone(filter)),
          );
          expect({filter, ...ours}).to.eql({filter, ...theirs});
          const ourOne = await answerOf(async () => [
            (await directOne(repo, structuredClone(filter)))!,
          ]);
          const theirOne = await answerOf(async () => [
            (await wholeOne(repo, structuredClone(filter)))!,
          ]);
          expect({filter, one: ourOne}).to.eql({filter, one: theirOne});
        }
        // The direct path never made juggler model instances of tasks
        // (the juggler's `findOne` goes through its `find`).
        expect(theirFinds.callCount).to.equal(2 * taskFilters().length);
      } finally {
        theirFinds.restore();
      }
      // What was compared holds rows, empty answers and a refusal.
      const answers = await Promise.all(
        taskFilters().map(f =>
          answerOf(() => direct(tasks, f as Filter<Entity>)),
        ),
      );
      expect(answers.some(a => (a.count ?? 0) >= 5)).to.be.true();
      expect(answers.some(a => a.count === 0)).to.be.true();
      expect(answers.some(a => a.error)).to.be.true();
    });

    it('answers entities of the model, numbers for bigint columns', async () => {
      const found = await events.find({where: {key: 'e-odd'}});
      expect(found).to.have.length(4);
      for (const event of found) {
        expect(event).to.be.instanceOf(Event);
        expect(event.timestamp).to.be.a.Number();
      }
      const live = await tasks.find();
      expect(live.map(x => x.id).sort()).to.eql(taskIds.slice(0, 5).sort());
      expect(live[0]).to.be.instanceOf(Task);
    });

    it('maps the rows itself, as the connector would, and leaves error stacks as they were', async () => {
      const connector = (
        tasks as unknown as AnyRepository
      ).modelClass.getDataSource().connector as unknown as Record<
        'all' | 'fromRow',
        () => unknown
      >;
      const all = sinon.spy(connector, 'all');
      const fromRow = sinon.spy(connector, 'fromRow');
      const limit = Error.stackTraceLimit;
      try {
        const found = await direct(tasks, {
          where: {key: 'odd'},
        } as Filter<Entity>);
        expect(found).to.have.length(3);
        expect(all.callCount).to.equal(0);
        expect(fromRow.callCount).to.equal(0);
        expect(Error.stackTraceLimit).to.equal(limit);
        // A refused filter: its 400 and message as the juggler makes them,
        // and the limit restored after the throw.
        const refusal = await direct(tasks, {
          where: {priority: {between: [1]}},
        } as Filter<Entity>).then(
          () => undefined,
          (err: Error & {statusCode?: number}) => err,
        );
        expect(refusal?.statusCode).to.equal(400);
        expect(refusal?.message).to.match(
          /priority property has invalid clause.*Expected precisely 2 values/,
        );
        expect(Error.stackTraceLimit).to.equal(limit);
        expect(new Error('here').stack).to.match(/\n\s+at /);
      } finally {
        all.restore();
        fromRow.restore();
      }
    });

    it('takes the juggler whole way inside a transaction', async () => {
      const theirFinds = sinon.spy(
        (tasks as unknown as AnyRepository).modelClass,
        'find',
      );
      try {
        await tasks.find({where: {key: 'odd'}});
        expect(theirFinds.callCount).to.equal(0);
        const tx = await (tasks as unknown as AnyRepository).beginTransaction();
        try {
          const inside = await tasks.find(
            {where: {key: 'odd'}},
            {
              transaction: tx,
            },
          );
          expect(inside).to.have.length(2);
        } finally {
          await tx.rollback();
        }
        expect(theirFinds.callCount).to.equal(1);
      } finally {
        theirFinds.restore();
      }
    });
  });
}
