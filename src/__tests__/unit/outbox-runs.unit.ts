import {expect} from '@loopback/testlab';
import {IEvent} from '../../interfaces';
import {
  FollowerRow,
  inTurns,
  OutboxEntry,
  singleKeyRuns,
  takeRuns,
} from '../../sql';

function entry(taskId: string, seq: number, alsoTask?: string): OutboxEntry {
  const event: IEvent = alsoTask
    ? {
        key: 'task-created',
        payload: {createdTasks: [{id: taskId}, {id: alsoTask}]},
        timestamp: 1,
        source: 'task-service',
      }
    : {
        key: 'task-completed',
        payload: {taskId},
        timestamp: 1,
        source: 'task-service',
      };
  return {id: `${taskId}${seq}`, event, attempts: 0, seq};
}

function row(taskId: string, seq: number, due = true, keyCount = 1) {
  return {
    entry: entry(taskId, seq),
    key: taskId,
    due,
    keyCount,
  } satisfies FollowerRow;
}

const ids = (entries: OutboxEntry[]) => entries.map(e => e.id);

describe('Outbox runs (unit)', () => {
  it('inTurns takes each run’s next before any run’s one after it, up to room', () => {
    const runs = [['a1', 'a2', 'a3', 'a4'], ['b1'], ['c1', 'c2']];
    expect(inTurns(runs, 100)).to.eql([
      'a1',
      'b1',
      'c1',
      'a2',
      'c2',
      'a3',
      'a4',
    ]);
    expect(inTurns(runs, 4)).to.eql(['a1', 'b1', 'c1', 'a2']);
    expect(inTurns(runs, 0)).to.eql([]);
    expect(inTurns([], 5)).to.eql([]);
  });

  it('takeRuns stops a run at its first event that is not due or names another task, then takes in turns', () => {
    const rows = [
      row('a', 2),
      row('a', 3),
      row('a', 4, false),
      row('a', 5),
      row('b', 6),
      row('b', 7, true, 2),
      row('b', 8),
      row('c', 9),
      row('c', 10),
      row('c', 11),
    ];
    expect(ids(takeRuns(rows, 100))).to.eql([
      'a2',
      'b6',
      'c9',
      'a3',
      'c10',
      'c11',
    ]);
    expect(ids(takeRuns(rows, 4))).to.eql(['a2', 'b6', 'c9', 'a3']);
  });

  it('singleKeyRuns starts a run behind each claimed event of one task', () => {
    const claimed = [entry('a', 1), entry('m', 2, 'k'), entry('b', 3)];
    expect(singleKeyRuns(claimed, 3)).to.eql([
      {key: 'a', seq: 1, limit: 3},
      {key: 'b', seq: 3, limit: 3},
    ]);
    expect(singleKeyRuns(claimed, 0)).to.eql([]);
  });
});
