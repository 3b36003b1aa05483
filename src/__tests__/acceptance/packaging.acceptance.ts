import {execFileSync, spawn} from 'child_process';
import {expect} from '@loopback/testlab';
import {cpSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'fs';
import {tmpdir} from 'os';
import path from 'path';
import {eventually} from '../fixtures/app';
import {PG_ADMIN, pgQuery} from '../fixtures/database';
import {bearer, tokenWith, TEST_JWT_SECRET} from '../fixtures/tokens';

const ROOT = path.resolve(__dirname, '../../..');
const ORIGINAL_STYLE = path.join(ROOT, 'src/__tests__/fixtures/original-style');

/** A fresh LoopBack host app that only knows the packed package, in plain JavaScript. */
const HOST_APP = `
const {RestApplication} = require('@loopback/rest');
const {RepositoryMixin, juggler} = require('@loopback/repository');
const {ServiceMixin} = require('@loopback/service-proxy');
const {TaskServiceComponent, TaskDbSourceName, WorkflowServiceSourceName, TaskAuthBindings} = require('loopback4-task-service');
const {TaskHttpBindings, TaskHttpComponent} = require('loopback4-task-service/http');
const kafka = require('loopback4-task-service/kafka');
const testing = require('loopback4-task-service/testing');

class HostApp extends ServiceMixin(RepositoryMixin(RestApplication)) {}

async function main() {
  if (typeof kafka.KafkaStreamService !== 'function') throw new Error('kafka subpath is empty');
  if (typeof testing.InProcessEngine !== 'function') throw new Error('testing subpath is empty');
  const app = new HostApp({rest: {port: Number(process.env.PORT), host: '127.0.0.1'}});
  for (const name of [TaskDbSourceName, WorkflowServiceSourceName]) {
    app.dataSource(new juggler.DataSource({
      name, connector: 'postgresql', host: process.env.DB_HOST, port: Number(process.env.DB_PORT),
      user: process.env.DB_USER, database: process.env.DB_DATABASE,
    }), name);
  }
  app.bind(TaskAuthBindings.JWT_CONFIG).to({secret: process.env.JWT_SECRET});
  app.component(TaskServiceComponent);
  app.component(TaskHttpComponent);
  app.bind(TaskHttpBindings.CONFIG).to({
    secretKeys: [{id: 'k1', key: require('crypto').randomBytes(32).toString('base64')}],
  });
  await app.start();
  console.log('listening');
}
main().catch(err => { console.error(err); process.exit(1); });
`;

describe('The packed package installs into a fresh app and boots there', function () {
  this.timeout(600000);
  let dir: string;
  const database = `task_pack_${process.pid}`;
  const port = 21000 + (process.pid % 20000);
  const env = {
    ...process.env,
    DB_HOST: PG_ADMIN.host,
    DB_PORT: String(PG_ADMIN.port),
    DB_USER: PG_ADMIN.user,
    DB_DATABASE: database,
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: String(port),
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'task-service-pack-'));
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await pgQuery(PG_ADMIN, `CREATE DATABASE ${database}`);
  });

  after(async () => {
    if (dir) rmSync(dir, {recursive: true, force: true});
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('packs without tests, installs with migrations on install, and serves a route', async () => {
    const packed = execFileSync(
      'npm',
      ['pack', '--silent', '--pack-destination', dir],
      {cwd: ROOT, env},
    )
      .toString()
      .trim()
      .split('\n')
      .pop()!;
    const tarball = path.join(dir, packed);
    const listing = execFileSync('tar', ['-tzf', tarball]).toString();
    expect(listing).to.match(/package\/dist\/index\.js/);
    expect(listing).to.match(
      /package\/migrations\/pg\/migrations\/sqls\/.*init-up\.sql/,
    );
    expect(listing).to.match(/package\/kafka\/package\.json/);
    expect(listing).to.match(/package\/testing\/package\.json/);
    expect(listing).to.not.match(/__tests__/);

    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({name: 'host-app', private: true}),
    );
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--foreground-scripts',
        tarball,
        '@loopback/service-proxy@^8',
        'kafkajs@^2.2.4',
      ],
      {
        cwd: dir,
        env: {
          ...env,
          TASK_SERVICE_MIGRATION: 'core,http',
          TASK_SERVICE_MIGRATION_COPY: 'true',
          INIT_CWD: dir,
        },
        stdio: 'pipe',
      },
    );
    const tables = await pgQuery<{table_name: string}>(
      {...PG_ADMIN, database},
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'`,
    );
    expect(tables.map(t => t.table_name)).to.containDeep([
      'tasks',
      'user_tasks',
      'events',
      'client_apps',
    ]);
    expect(
      existsSync(path.join(dir, 'migrations', 'task-service', 'migrate.js')),
    ).to.be.true();

    writeFileSync(path.join(dir, 'index.js'), HOST_APP);
    const app = spawn(process.execPath, ['index.js'], {cwd: dir, env});
    let output = '';
    app.stdout.on('data', c => (output += c));
    app.stderr.on('data', c => (output += c));
    try {
      await eventually(
        () => output.includes('listening'),
        'the host app to listen',
        60000,
        100,
      ).catch(err => {
        throw new Error(`${(err as Error).message}; its output: ${output}`);
      });
      const res = await fetch(`http://127.0.0.1:${port}/tasks`, {
        headers: bearer(tokenWith(['16003'])),
      });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.eql([]);
    } finally {
      app.kill('SIGTERM');
    }
  });

  it('compiles, strict, an app written for the original against the installed package and its dependencies only', () => {
    expect(
      existsSync(path.join(dir, 'node_modules', 'loopback4-task-service')),
    ).to.be.true();
    // The same sources the test build compiles, by the package's name.
    cpSync(ORIGINAL_STYLE, path.join(dir, 'src'), {
      recursive: true,
      filter: source => !source.endsWith('.bpmn'),
    });
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          strictPropertyInitialization: false,
          useDefineForClassFields: false,
          target: 'ES2022',
          module: 'commonjs',
          moduleResolution: 'node',
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          esModuleInterop: true,
          skipLibCheck: true,
          noEmit: true,
          // Node's types from here; every other type comes from the host's
          // node_modules (the client library's with the package).
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['src'],
      }),
    );
    try {
      execFileSync(
        process.execPath,
        [
          path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          dir,
        ],
        {cwd: dir, stdio: 'pipe'},
      );
    } catch (err) {
      throw new Error(
        `The original-style app does not compile against the installed package:\n${(err as {stdout?: Buffer}).stdout}`,
      );
    }
  });
});
