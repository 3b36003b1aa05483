import {expect} from '@loopback/testlab';
import {Event, Task, UserTask, Workflow} from '../../models';
import {
  InvalidFilterError,
  validateFilter,
  validateWhere,
} from '../../security';

function refused(run: () => void, message: RegExp) {
  expect(run).to.throw(InvalidFilterError);
  expect(run).to.throw(message);
}

describe('Filter and where validation (unit)', () => {
  describe('accepts what the SQL connectors apply as written', () => {
    for (const [what, where] of [
      ['a plain value', {key: 'review', status: 'pending'}],
      ['a null', {description: null}],
      [
        'comparisons',
        {key: {neq: 'x'}, createdOn: {gt: '2024-01-31T12:00:00Z'}},
      ],
      ['a date as epoch ms', {dueDate: {lte: 1706702400000}}],
      [
        'lists',
        {
          status: {inq: ['pending', 'completed']},
          id: {nin: ['7c9e6679-7425-40de-944b-e07fc1f90ae7']},
        },
      ],
      ['between', {startDate: {between: ['2024-01-01', '2024-12-31']}}],
      ['like', {name: {ilike: '%order%'}}],
      ['a linear regexp', {name: {regexp: '^Review [0-9]+$'}}],
      ['a regexp literal', {name: {regexp: '/^review/i'}}],
      ['booleans as text', {deleted: 'false'}],
      ['and/or', {or: [{key: 'a'}, {and: [{key: 'b'}, {status: 'pending'}]}]}],
    ] as const) {
      it(what, () => validateWhere(Task, where));
    }

    it('a whole filter with fields, order, paging and an include scope', () => {
      validateFilter(Task, {
        where: {key: 'a'},
        fields: ['id', 'key'],
        order: ['createdOn DESC', 'key'],
        limit: 10,
        skip: '5',
        include: [
          {
            relation: 'userTasks',
            scope: {where: {status: 'pending'}, order: 'name asc'},
          },
        ],
      });
      validateFilter(Task, {
        fields: {id: true, metadata: false},
        include: 'userTasks',
      });
    });

    it('numbers and uuids of the model', () => {
      validateWhere(Event, {timestamp: {gte: '1706702400000'}});
      validateWhere(UserTask, {taskId: '7c9e6679-7425-40de-944b-e07fc1f90ae7'});
    });
  });

  describe('refuses, naming the spot', () => {
    it('an invalid date, as a value or an operand', () => {
      refused(
        () => validateWhere(Task, {createdOn: 'not-a-date'}),
        /^Invalid value in the filter at where\.createdOn: "not-a-date" is not a valid date/,
      );
      refused(
        () => validateWhere(Task, {createdOn: {gt: 'yesterday'}}),
        /at where\.createdOn\.gt: "yesterday" is not a valid date/,
      );
      refused(
        () => validateWhere(Task, {dueDate: {between: ['2024-01-01', 'soon']}}),
        /dueDate\.between\[1\]/,
      );
      refused(
        () => validateWhere(Task, {dueDate: '99999-01-01'}),
        /valid date/,
      );
      refused(() => validateWhere(Task, {dueDate: ''}), /valid date/);
    });

    it('a malformed uuid, number or boolean', () => {
      refused(
        () => validateWhere(Task, {id: 'abc'}),
        /at where\.id: "abc" is not a valid uuid/,
      );
      refused(() => validateWhere(Event, {timestamp: 'soon'}), /valid integer/);
      // An integer column holds neither fractions nor more than 32 bits.
      refused(
        () => validateWhere(Workflow, {workflowVersion: 1.5}),
        /valid integer \(at most 2147483647\)/,
      );
      refused(
        () => validateWhere(Workflow, {workflowVersion: {gt: '99999999999'}}),
        /valid integer/,
      );
      validateWhere(Event, {timestamp: {gt: 99999999999}});
      refused(() => validateWhere(Task, {deleted: 'maybe'}), /valid boolean/);
    });

    it('unknown properties, at any depth, and in order and fields', () => {
      refused(
        () => validateWhere(Task, {keyy: 'x'}),
        /^Unknown tasks property in the filter: keyy \(at where\.keyy\)/,
      );
      refused(
        () => validateWhere(Task, {or: [{key: 'a'}, {and: [{nope: 1}]}]}),
        /nope \(at where\.or\[1\]\.and\[0\]\.nope\)/,
      );
      refused(
        () => validateFilter(Task, {order: 'nope DESC'}),
        /property in the filter: nope \(at filter\.order\)/,
      );
      refused(
        () => validateFilter(Task, {order: ['key sideways']}),
        /property \[ASC\|DESC\]/,
      );
      refused(
        () => validateFilter(Task, {fields: ['nope']}),
        /Unknown tasks property in the filter: nope/,
      );
      refused(
        () => validateFilter(Task, {fields: {key: 'yes'}}),
        /true or false/,
      );
    });

    it('unknown, doubled or misapplied operators', () => {
      refused(
        () => validateWhere(Task, {key: {exists: true}}),
        /not a supported operator/,
      );
      // The connectors apply only the first of several: never silently.
      refused(
        () => validateWhere(Task, {key: {gt: 'a', lt: 'b'}}),
        /exactly one operator/,
      );
      refused(
        () => validateWhere(Task, {key: {}}),
        /exactly one operator, not 0/,
      );
      refused(() => validateWhere(Task, {key: ['a', 'b']}), /use \{"inq"/);
      refused(
        () => validateWhere(Task, {status: {inq: []}}),
        /non-empty array/,
      );
      refused(
        () => validateWhere(Task, {status: {inq: 'pending'}}),
        /non-empty array/,
      );
      refused(
        () => validateWhere(Task, {dueDate: {between: ['2024-01-01']}}),
        /two values/,
      );
      refused(
        () => validateWhere(Task, {dueDate: {like: '2024%'}}),
        /text properties only/,
      );
      refused(
        () => validateWhere(Task, {key: {gt: {nested: 1}}}),
        /single value/,
      );
      refused(
        () => validateWhere(Task, {and: []}),
        /non-empty array of where objects/,
      );
      refused(() => validateWhere(Task, {and: {key: 'a'}}), /non-empty array/);
    });

    it('a JSON property in a where or an order', () => {
      refused(() => validateWhere(Task, {metadata: 'x'}), /JSON property/);
      refused(
        () => validateFilter(Task, {order: 'metadata'}),
        /cannot be ordered by/,
      );
    });

    it('prototype keys wherever they are', () => {
      const polluted = JSON.parse('{"__proto__": {"x": "yes"}}');
      refused(
        () => validateWhere(Task, polluted),
        /where\.__proto__ is not allowed/,
      );
      refused(
        () =>
          validateWhere(Task, {and: [JSON.parse('{"key": {"__proto__": 1}}')]}),
        /__proto__ is not allowed/,
      );
      refused(
        () => validateWhere(Task, {constructor: 'x'}),
        /is not allowed|not a property/,
      );
      refused(
        () => validateFilter(Task, JSON.parse('{"__proto__": {}}')),
        /not allowed/,
      );
    });

    it('a regexp that cannot run in linear time', () => {
      refused(
        () => validateWhere(Task, {name: {regexp: '(a)\\1'}}),
        /not supported/,
      );
      refused(
        () => validateWhere(Task, {name: {regexp: '(?=a)b'}}),
        /linear-time/,
      );
    });

    it('deep nesting and too many conditions', () => {
      let where: object = {key: 'a'};
      for (let i = 0; i < 10; i++) where = {and: [where]};
      refused(() => validateWhere(Task, where), /nests deeper than 6 levels/);
      const wide = {or: Array.from({length: 150}, (_, i) => ({key: `k${i}`}))};
      refused(() => validateWhere(Task, wide), /more than 100 conditions/);
      const list = {key: {inq: Array.from({length: 1001}, (_, i) => `k${i}`)}};
      refused(() => validateWhere(Task, list), /more than 1000 values/);
    });

    it('unknown filter keys, a where where none is taken, bad paging and relations', () => {
      refused(
        () => validateFilter(Task, {wher: {key: 'a'}}),
        /filter\.wher is not a filter key/,
      );
      refused(
        () => validateFilter(Task, {where: {key: 'a'}}, {allowWhere: false}),
        /filter\.where is not a filter key here/,
      );
      refused(() => validateFilter(Task, {limit: -1}), /integer of at least 1/);
      refused(
        () => validateFilter(Task, {skip: 'ten'}),
        /integer of at least 0/,
      );
      refused(
        () => validateFilter(Task, {include: ['nope']}),
        /not a relation of tasks \(use userTasks\)/,
      );
      refused(
        () =>
          validateFilter(Task, {
            include: [{relation: 'userTasks', scope: {where: {nope: 1}}}],
          }),
        /user_tasks property in the filter: nope \(at filter\.include\[0\]\.scope\.where\.nope\)/,
      );
      refused(() => validateFilter(Task, 'where=x'), /must be a filter object/);
      refused(() => validateWhere(Task, []), /must be a where object/);
    });
  });
});
