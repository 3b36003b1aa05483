import {ChildProcess, spawn} from 'child_process';
import {expect} from '@loopback/testlab';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'fs';
import {tmpdir} from 'os';
import path from 'path';
import {PermissionKey} from '../..';
import {eventually} from '../fixtures/app';
import {assertCamundaUp} from '../fixtures/camunda';
import {PG_ADMIN, pgQuery} from '../fixtures/database';
import {
  freePort,
  packTarball,
  readmeBlock,
  readmeCommand,
  ROOT,
  run,
  runOk,
  shell,
  StepTimer,
  userEnv,
} from '../fixtures/host-app';

/** The LoopBack CLI a user gets with `npx -p @loopback/cli@7` (Node 20 to 24). */
const LOOPBACK_CLI = '@loopback/cli@7.0.17';
/** `lb4 app`'s interactive defaults: every feature checked. */
const LB4_APP_DEFAULTS = {
  eslint: true,
  prettier: true,
  mocha: true,
  loopbackBuild: true,
  editorconfig: true,
  vscode: true,
  docker: true,
  repositories: true,
  services: true,
};
const APP_NAME = 'my-app';

/** Columns, indexes and constraints of every schema but the system ones. */
async function schemaOf(database: string): Promise<string[]> {
  const db = {...PG_ADMIN, database};
  const rows = await Promise.all([
    pgQuery<{d: string}>(
      db,
      `SELECT concat_ws(' ', table_schema || '.' || table_name, column_name,
              data_type, character_maximum_length, is_nullable, column_default) AS d
         FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    ),
    pgQuery<{d: string}>(
      db,
      `SELECT schemaname || '.' || indexname || ' ' || indexdef AS d
         FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog')`,
    ),
    pgQuery<{d: string}>(
      db,
      `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS d
         FROM pg_constraint
        WHERE connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')`,
    ),
  ]);
  return rows
    .flat()
    .map(r => r.d)
    .sort();
}

/** Inserts the README's imports after the last import of `source`. */
function addImports(source: string, imports: string): string {
  const lastImport = source.lastIndexOf('\nimport ');
  const end = source.indexOf(';\n', lastImport) + 2;
  return source.slice(0, end) + imports + source.slice(end);
}

/**
 * Inserts the README's constructor lines (those after "what lb4 app
 * generated", without the closing braces) at the end of the constructor.
 */
function addToConstructor(source: string, snippet: string): string {
  const lines = snippet.trimEnd().split('\n');
  const from = lines.findIndex(l => l.includes('what lb4 app generated'));
  expect(from).to.be.greaterThan(-1);
  expect(lines.slice(-2)).to.eql(['  }', '}']);
  const body = lines.slice(from + 1, -2).join('\n');
  const end = source.lastIndexOf('\n  }\n}');
  return source.slice(0, end) + '\n' + body + source.slice(end);
}

/** Stops a process started with `detached: true` and everything it started. */
function stopGroup(child: ChildProcess) {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  } catch (err) {
    // ESRCH: the whole group has exited already.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

describe('The README from `lb4 app` to a completed task, in a new host app', function () {
  // Installing a LoopBack app from the registry takes most of it.
  this.timeout(600000);
  const timer = new StepTimer();
  const database = `task_host_app_${process.pid}`;
  const tenant = `host-app-${process.pid}`;
  let work: string;
  let appDir: string;
  let tarball: string;
  let port: number;
  let receiverPort: number;
  let app: ChildProcess | undefined;
  let appOutput = '';
  let env: NodeJS.ProcessEnv;

  before(async () => {
    await assertCamundaUp();
    // The walkthrough is a shell script: bash, curl 7.76+ (--fail-with-body).
    const curl = await run('curl', ['--version'], {}).catch(() => undefined);
    const version = /^curl (\d+)\.(\d+)/.exec(curl?.output ?? '');
    if (!version || Number(version[1]) * 100 + Number(version[2]) < 776) {
      throw new Error(
        'The README walkthrough needs curl 7.76 or newer on the PATH.',
      );
    }
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database}`);
    work = mkdtempSync(path.join(tmpdir(), 'task-service-host-'));
    appDir = path.join(work, APP_NAME);
    port = await freePort();
    receiverPort = await freePort();
    // The README's defaults, with this run's database, engine tenant and port.
    env = userEnv({
      DB_HOST: PG_ADMIN.host,
      DB_PORT: String(PG_ADMIN.port),
      DB_USER: PG_ADMIN.user,
      DB_DATABASE: database,
      CAMUNDA_TENANT_ID: tenant,
      PORT: String(port),
      ...(PG_ADMIN.password ? {DB_PASSWORD: PG_ADMIN.password} : {}),
    });
    tarball = await timer.time('npm pack (this repository)', () =>
      packTarball(work),
    );
  });

  after(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise(resolve => app!.once('exit', resolve));
      stopGroup(app);
      await exited;
    }
    console.log(timer.report('    README path, step by step:'));
    if (work) rmSync(work, {recursive: true, force: true});
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('scaffolds the app with `lb4 app`, non-interactively', async () => {
    await timer.time('lb4 app my-app (CLI from the registry)', () =>
      runOk(
        'npm',
        [
          'exec',
          '--yes',
          `--package=${LOOPBACK_CLI}`,
          '--',
          'lb4',
          'app',
          APP_NAME,
          '--yes',
          '--skip-install',
          '--config',
          JSON.stringify(LB4_APP_DEFAULTS),
        ],
        {cwd: work, env: userEnv()},
      ),
    );
    const pkg = JSON.parse(
      readFileSync(path.join(appDir, 'package.json'), 'utf8'),
    );
    expect(pkg.scripts).to.containEql({migrate: 'node ./dist/migrate'});
    expect(pkg.dependencies).to.have.property('@loopback/repository');
  });

  it('installs the app and the packed package', async () => {
    // `lb4 app` installs, then `npm install loopback4-task-service`: one
    // install of both gives the same tree, once.
    await timer.time('npm install (the app and the package)', () =>
      runOk(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball],
        {cwd: appDir, env: userEnv()},
      ),
    );
  });

  it("compiles with the README's snippets, which pass the app's lint", async () => {
    await timer.time('README snippets applied, npm run build', async () => {
      mkdirSync(path.join(appDir, 'src', 'datasources'), {recursive: true});
      writeFileSync(
        path.join(appDir, 'src/datasources/task-service.datasource.ts'),
        readmeBlock('Create `src/datasources/task-service.datasource.ts`'),
      );
      const applicationFile = path.join(appDir, 'src/application.ts');
      let application = readFileSync(applicationFile, 'utf8');
      application = addImports(
        application,
        readmeBlock('Add these imports to `src/application.ts`'),
      );
      application = addToConstructor(
        application,
        readmeBlock("at the end of the application's constructor"),
      );
      writeFileSync(applicationFile, application);
      mkdirSync(path.join(appDir, 'src', 'commands'), {recursive: true});
      writeFileSync(
        path.join(appDir, 'src/commands/read-data.command.ts'),
        readmeBlock('A custom command, in `src/commands/read-data.command.ts`'),
      );
      await runOk('npm', ['run', 'build'], {cwd: appDir, env});
    });
    // The generated app's own lint (its src/index.ts already fails it):
    // what the README adds must pass it.
    const added = [
      'src/application.ts',
      'src/datasources/task-service.datasource.ts',
      'src/commands/read-data.command.ts',
    ];
    await runOk('npx', ['eslint', ...added], {cwd: appDir, env});
    await runOk('npx', ['prettier', '--check', ...added], {cwd: appDir, env});
  });

  it('creates the database and the tables with `npx loopback4-task-service migrate`', async () => {
    const command = readmeCommand('npx loopback4-task-service migrate');
    expect(command).to.equal('npx loopback4-task-service migrate up core http');
    const output = await timer.time(command, () =>
      shell(command, {cwd: appDir, env}),
    );
    expect(output).to.match(new RegExp(`Created database ${database}`));
    const tables = await pgQuery<{table_name: string}>(
      {...PG_ADMIN, database},
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'`,
    );
    expect(tables.map(t => t.table_name)).to.containDeep([
      'tasks',
      'user_tasks',
      'events',
      'workflows',
      'client_apps',
      'webhook_deliveries',
    ]);
  });

  it("runs the app's `npm run migrate` without touching the service's tables", async () => {
    const command = readmeCommand('npm run migrate');
    expect(command).to.equal('npm run migrate');
    const before = await schemaOf(database);
    const {code, output} = await timer.time(command, () =>
      run('bash', ['-c', command], {cwd: appDir, env}),
    );
    const after = await schemaOf(database);
    expect({
      exitCode: code,
      removed: before.filter(d => !after.includes(d)),
      added: after.filter(d => !before.includes(d)),
    }).to.eql(
      {exitCode: 0, removed: [], added: []},
      `npm run migrate must leave the schema as the migrations made it; its output:\n${output.slice(-3000)}`,
    );
  });

  it("passes the app's own tests with the service mounted", async () => {
    // `npm test` without its pretest rebuild (done above) and its posttest
    // lint (the generated src/index.ts fails it before any change).
    // In the shell the README sets up: its client secret key exported.
    const key = readmeCommand('export CLIENT_SECRET_KEY=');
    await timer.time("the app's own tests (npm test)", () =>
      shell(`${key}\nnpm test --ignore-scripts`, {
        cwd: appDir,
        env: {...env, CAMUNDA_TENANT_ID: `${tenant}-tests`},
      }),
    );
  });

  it('starts with `npm start` and runs the README walkthrough to a completed task', async () => {
    const key = readmeCommand('export CLIENT_SECRET_KEY=');
    const start = readmeCommand('JWT_SECRET=');
    expect(start).to.match(
      /^JWT_SECRET=\S+ WEBHOOK_ALLOW_PRIVATE_URLS=true npm start$/,
    );
    await timer.time('JWT_SECRET=… npm start (until it answers)', async () => {
      app = spawn('bash', ['-e', '-c', `${key}\n${start}`], {
        cwd: appDir,
        env,
        detached: true,
      });
      app.stdout!.on('data', chunk => (appOutput += chunk));
      app.stderr!.on('data', chunk => (appOutput += chunk));
      await eventually(
        async () => (await fetch(`http://127.0.0.1:${port}/ping`)).ok,
        `the app to answer on ${port}`,
        120000,
        250,
      ).catch(err => {
        throw new Error(`${(err as Error).message}; its output: ${appOutput}`);
      });
    });

    writeFileSync(
      path.join(work, 'receiver.js'),
      readmeBlock('Save this webhook receiver as `../receiver.js`'),
    );
    const walkthrough = readmeBlock("Then, in the app's folder")
      .replace(
        /^BASE=http:\/\/127\.0\.0\.1:3000\b/m,
        `BASE=http://127.0.0.1:${port}`,
      )
      .replace(/^RECEIVER_PORT=4000\b/m, `RECEIVER_PORT=${receiverPort}`);
    expect(walkthrough).to.match(new RegExp(`BASE=http://127.0.0.1:${port}`));
    expect(walkthrough).to.match(new RegExp(`RECEIVER_PORT=${receiverPort}`));
    writeFileSync(path.join(work, 'walkthrough.sh'), walkthrough);

    // Its own process group: the receiver it starts in the background
    // outlives the script, and is stopped with it.
    const shellRun = spawn(
      'bash',
      ['-e', '-o', 'pipefail', path.join(work, 'walkthrough.sh')],
      {cwd: appDir, env: userEnv(), detached: true},
    );
    let output = '';
    shellRun.stdout.on('data', chunk => (output += chunk));
    shellRun.stderr.on('data', chunk => (output += chunk));
    try {
      await timer.time('the walkthrough (steps 0 to 8)', async () => {
        const code = await new Promise(resolve =>
          shellRun.once('exit', resolve),
        );
        expect(code).to.equal(0, `the walkthrough failed:\n${output}`);
      });
      const taskLine = /^task (\S+) is (\S+)$/m.exec(output);
      expect(taskLine?.[2]).to.equal('completed', output);
      const events = () =>
        [...output.matchAll(/^receiver: (\S+), signature verified$/gm)].map(
          m => m[1],
        );
      await eventually(
        () => events().length >= 4,
        'four verified webhooks',
        30000,
        100,
      ).catch(err => {
        throw new Error(`${(err as Error).message}; the output: ${output}`);
      });
      expect(events().sort()).to.eql([
        'task-completed',
        'task-created',
        'user-task-completed',
        'user-task-completed',
      ]);
      expect(output).to.not.match(/refused a delivery/);

      const [task] = await pgQuery<{status: string; name: string}>(
        {...PG_ADMIN, database},
        'SELECT status, name FROM main.tasks WHERE id = $1',
        [taskLine![1]],
      );
      expect(task).to.eql({status: 'completed', name: 'Review order 42'});
    } finally {
      stopGroup(shellRun);
    }
  });

  it('mints development tokens with every permission of the routes', async () => {
    const {ALL_PERMISSIONS} = require(
      path.join(ROOT, 'bin', 'task-service.js'),
    ) as {ALL_PERMISSIONS: string[]};
    expect([...ALL_PERMISSIONS].sort()).to.eql(
      Object.values(PermissionKey).sort(),
    );
  });
});
