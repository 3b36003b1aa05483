import {juggler} from '@loopback/repository';
import {expect} from '@loopback/testlab';
import {toHttpError} from '../../controllers';
import {isUnavailableError, TaskServiceError} from '../../errors';
import {UnknownWorkflowError, WorkflowRefusedError} from '../../interfaces';
import {OutboxEvent, Task, UserTask} from '../../models';
import {
  affectedCount,
  fittedToDialect,
  MYSQL,
  POSTGRESQL,
  sqlDialectOf,
} from '../../sql';
import {exponentialBackoff} from '../../utils';

describe('One error convention (unit): refusals become HTTP errors in one place', () => {
  it('maps each kind of refusal to its status, keeping message and details', () => {
    const statuses = (
      [
        ['invalid', 400],
        ['unauthenticated', 401],
        ['not-found', 404],
        ['conflict', 409],
        ['rejected', 422],
        ['unavailable', 503],
      ] as const
    ).map(([kind, status]) => {
      const http = toHttpError(
        new TaskServiceError(kind, `a ${kind} refusal`, [{path: '/'}]),
      ) as {statusCode: number; message: string; details: unknown};
      expect(http.message).to.equal(`a ${kind} refusal`);
      expect(http.details).to.eql([{path: '/'}]);
      return http.statusCode === status;
    });
    expect(statuses.every(Boolean)).to.be.true();
  });

  it('engine refusals are refusals too', () => {
    const refused = toHttpError(new WorkflowRefusedError('no start event')) as {
      statusCode: number;
      message: string;
    };
    expect(refused.statusCode).to.equal(400);
    expect(refused.message).to.equal(
      'The engine refused the BPMN: no start event',
    );
    expect(
      (toHttpError(new UnknownWorkflowError('x:1:y')) as {statusCode: number})
        .statusCode,
    ).to.equal(404);
  });

  it('a value the database cannot hold is a 400; anything else goes on untouched', () => {
    const bad = Object.assign(new Error('invalid input syntax for type uuid'), {
      code: '22P02',
    });
    expect((toHttpError(bad) as {statusCode: number}).statusCode).to.equal(400);
    const other = new Error('boom');
    expect(toHttpError(other)).to.equal(other);
  });
});

describe('isUnavailableError (unit): a part that is away, not a bad input', () => {
  it('knows an unreachable engine or database, also as a cause', () => {
    const unavailable = [
      new TaskServiceError('unavailable', 'not subscribed'),
      Object.assign(new Error('engine not reachable'), {status: 503}),
      Object.assign(new Error('bad gateway'), {status: 502}),
      Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}),
      Object.assign(new Error('terminating connection'), {code: '57P01'}),
      Object.assign(new Error('connection failure'), {code: '08006'}),
      new Error('fetch failed', {cause: {code: 'UND_ERR_SOCKET'}}),
    ];
    expect(unavailable.filter(e => !isUnavailableError(e))).to.eql([]);
    const other = [
      new TaskServiceError('invalid', 'bad input'),
      Object.assign(new Error('not found'), {status: 404}),
      Object.assign(new Error('engine failed'), {status: 500}),
      Object.assign(new Error('invalid uuid'), {code: '22P02'}),
      new Error('is not JSON'),
      undefined,
      'a string',
    ];
    expect(other.filter(e => isUnavailableError(e))).to.eql([]);
  });
});

describe('The SQL dialect (unit)', () => {
  it('is chosen from the connector name; an unknown one says what is supported', () => {
    const pg = {name: 'taskdb', connector: {name: 'postgresql'}};
    expect(sqlDialectOf(pg as unknown as juggler.DataSource)).to.equal(
      POSTGRESQL,
    );
    const mysql = {name: 'taskdb', connector: {name: 'mysql'}};
    expect(sqlDialectOf(mysql as unknown as juggler.DataSource)).to.equal(
      MYSQL,
    );
    const other = {name: 'taskdb', connector: {name: 'oracle'}, settings: {}};
    expect(() => sqlDialectOf(other as unknown as juggler.DataSource)).to.throw(
      'The datasource taskdb uses the connector "oracle", for which loopback4-task-service has no SQL; it supports: postgresql, mysql.',
    );
  });

  it('names tables from the models, in the service schema', () => {
    expect(POSTGRESQL.tableOf(OutboxEvent)).to.equal('"main"."outbox_events"');
    expect(POSTGRESQL.lockByIdStatement(Task)).to.equal(
      'SELECT 1 FROM "main"."tasks" WHERE id = $1 FOR UPDATE',
    );
    expect(POSTGRESQL.isUniqueViolation({code: '23505'})).to.be.true();
    expect(POSTGRESQL.isUniqueViolation(new Error('x'))).to.be.false();
  });

  it('on MySQL: tables of the connected database, `?` placeholders, its error codes', () => {
    expect(MYSQL.tableOf(OutboxEvent)).to.equal('`outbox_events`');
    expect(MYSQL.lockByIdStatement(Task)).to.equal(
      'SELECT 1 FROM `tasks` WHERE id = ? FOR UPDATE',
    );
    expect(MYSQL.isUniqueViolation({code: 'ER_DUP_ENTRY'})).to.be.true();
    expect(MYSQL.isUniqueViolation({code: '23505'})).to.be.false();
    expect(MYSQL.isBadValue({code: 'ER_TRUNCATED_WRONG_VALUE'})).to.be.true();
    expect(MYSQL.isBadValue({code: 'ER_DATA_TOO_LONG'})).to.be.true();
    expect(MYSQL.isBadValue({code: 'ER_DUP_ENTRY'})).to.be.false();
    expect(affectedCount({affectedRows: 3, insertId: 0})).to.equal(3);
  });

  it('ids: PostgreSQL makes them; on MySQL the model the repository attaches makes a uuid', () => {
    const pg = {name: 'taskdb', connector: {name: 'postgresql'}};
    const mysql = {name: 'taskdb', connector: {name: 'mysql'}};
    expect(
      fittedToDialect(UserTask, pg as unknown as juggler.DataSource),
    ).to.equal(UserTask);
    const fitted = fittedToDialect(
      UserTask,
      mysql as unknown as juggler.DataSource,
    );
    expect(fitted.definition.properties.id).to.containDeep({
      generated: false,
      defaultFn: 'uuidv4',
    });
    expect(fitted.definition.name).to.equal('user_tasks');
    // The model class itself is left as it is.
    expect(UserTask.definition.properties.id.generated).to.be.true();
    expect(UserTask.definition.properties.id).to.not.have.property('defaultFn');
  });
});

describe('exponentialBackoff (unit)', () => {
  it('doubles from the initial wait after each failure, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map(n => exponentialBackoff(n, 100, 1000))).to.eql([
      100, 200, 400, 800, 1000,
    ]);
    expect(exponentialBackoff(0, 100)).to.equal(100);
  });
});
