import {expect} from '@loopback/testlab';
import {orderingKeysOf} from '../..';

describe('orderingKeysOf (unit)', () => {
  it('keys each event by the tasks it concerns', () => {
    expect(
      orderingKeysOf({
        payload: {createdTasks: [{id: 'a'}, {id: 'b'}, {id: 'a'}]},
      }),
    ).to.eql(['a', 'b']);
    expect(
      orderingKeysOf({
        payload: {task: {id: 't'}, userTask: {id: 'u', taskId: 't'}},
      }),
    ).to.eql(['t']);
    expect(orderingKeysOf({payload: {taskId: 'done'}})).to.eql(['done']);
    expect(orderingKeysOf({payload: {taskId: 42}})).to.eql(['42']);
  });

  it('gives no key to an event that names no task, whatever its payload', () => {
    for (const payload of [
      {},
      {other: 1},
      {taskId: ''},
      {taskId: null},
      {taskId: {nested: true}},
      {createdTasks: 'not an array'},
      {createdTasks: [null, 7, {name: 'no id'}]},
      {task: ['x']},
      null,
      'text',
      [1, 2],
    ]) {
      expect(orderingKeysOf({payload: payload as never})).to.eql([]);
    }
  });

  it('stores a key longer than its column as its SHA-256', () => {
    const long = 'x'.repeat(300);
    const [key] = orderingKeysOf({payload: {taskId: long}});
    expect(key).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(orderingKeysOf({payload: {taskId: long}})).to.eql([key]);
    expect(orderingKeysOf({payload: {taskId: 'y'.repeat(255)}})).to.eql([
      'y'.repeat(255),
    ]);
  });
});
