'use strict';
/**
 * LoopBack alone: what a plain LoopBack 4 app costs on this machine when
 * it does no work of its own. A `RestApplication` with its default sequence
 * and one controller answering the routes the benchmarks load, with the
 * same parameters and the same JSON as the service, but no authentication
 * and no database: the rows of each read are read once at start and
 * answered from memory, and a trigger's body is parsed and validated, then
 * dropped. It shows how much of a ceiling LoopBack's REST layer leaves to
 * the work itself (the service's lean routes skip part of that layer).
 */
const {
  RestApplication,
  get,
  param,
  post,
  requestBody,
} = require('@loopback/rest');
const {ready, exitOnSigterm, poolFromEnv} = require('../lib/child');
const {TASK_COLUMNS, USER_TASK_COLUMNS, EVENT_COLUMNS} = require('./columns');

/** The rows each read answers, as many as the benchmark's reads return. */
const rows = {tasks: [], events: [], userTasks: []};

class AloneController {
  async trigger() {}
  async tasks() {
    return rows.tasks;
  }
  async events() {
    return rows.events;
  }
  async userTasks() {
    return rows.userTasks;
  }
}

/** Decorates `method` as TypeScript would for `@decorator`. */
function decorate(method, ...decorators) {
  const proto = AloneController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, method);
  for (const decorator of decorators) decorator(proto, method, descriptor);
}
const arrayOf = description => ({
  responses: {
    200: {
      description,
      content: {
        'application/json': {schema: {type: 'array', items: {type: 'object'}}},
      },
    },
  },
});
decorate(
  'trigger',
  post('/events/trigger', {responses: {204: {description: 'Stored'}}}),
);
requestBody({
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['key'],
        properties: {
          key: {type: 'string', minLength: 1},
          source: {type: 'string'},
          description: {type: 'string'},
          payload: {type: 'object'},
        },
      },
    },
  },
})(AloneController.prototype, 'trigger', 0);
decorate('tasks', get('/tasks', arrayOf('Tasks')));
param.query.object('filter')(AloneController.prototype, 'tasks', 0);
decorate('events', get('/events', arrayOf('Events')));
param.query.object('filter')(AloneController.prototype, 'events', 0);
decorate('userTasks', get('/tasks/{taskId}/user-tasks', arrayOf('User tasks')));
param.path.string('taskId', {format: 'uuid'})(
  AloneController.prototype,
  'userTasks',
  0,
);
param.query.object('filter')(AloneController.prototype, 'userTasks', 1);

/** Rows of the same shape and number as the service answers (none in an empty database). */
async function loadRows() {
  const pool = poolFromEnv(1);
  try {
    rows.tasks = (
      await pool.query(`SELECT ${TASK_COLUMNS} FROM main.tasks LIMIT 20`)
    ).rows;
    rows.events = (
      await pool.query(`SELECT ${EVENT_COLUMNS} FROM main.events LIMIT 50`)
    ).rows;
    for (const row of rows.events) row.timestamp = Number(row.timestamp);
    rows.userTasks = (
      await pool.query(
        `SELECT ${USER_TASK_COLUMNS} FROM main.user_tasks LIMIT 5`,
      )
    ).rows;
  } finally {
    await pool.end();
  }
}

async function main() {
  await loadRows();
  const app = new RestApplication({
    rest: {
      port: 0,
      host: '127.0.0.1',
      openApiSpec: {setServersFromRequest: true},
    },
  });
  app.controller(AloneController);
  await app.start();
  exitOnSigterm(() => app.stop());
  ready({url: app.restServer.url});
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
