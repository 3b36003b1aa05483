import {expect} from '@loopback/testlab';
import {execFileSync} from 'child_process';
import {cpSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'fs';
import {tmpdir} from 'os';
import path from 'path';
import {PG_ADMIN, pgQuery} from '../fixtures/database';
import {
  packTarball,
  README,
  ROOT,
  run,
  runOk,
  userEnv,
} from '../fixtures/host-app';

const ORIGINAL_STYLE = path.join(ROOT, 'src/__tests__/fixtures/original-style');

describe('The packed package', function () {
  this.timeout(600000);
  let dir: string;
  let tarball: string;
  let listing: string[];
  const database = `task_pack_${process.pid}`;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'task-service-pack-'));
    tarball = await packTarball(dir);
    listing = execFileSync('tar', ['-tzf', tarball])
      .toString()
      .trim()
      .split('\n')
      .map(entry => entry.replace(/^package\//, ''));
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database}`);
    await pgQuery(PG_ADMIN, `CREATE DATABASE ${database}`);
  });

  after(async () => {
    if (dir) rmSync(dir, {recursive: true, force: true});
    await pgQuery(PG_ADMIN, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('holds what an app needs, and no build info, tests or sources', () => {
    expect(listing).to.containDeep([
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/connectors/kafka/index.js',
      'dist/connectors/http/index.js',
      'kafka/package.json',
      'http/package.json',
      'testing/package.json',
      'bin/task-service.js',
      'migrations/migrate.js',
      'scripts/migrate-on-install.js',
      'sandbox/task-example/workflows/order-received.bpmn',
      'sandbox/task-example/workflows/review-task.bpmn',
      'docs/webhooks.md',
    ]);
    expect(listing.filter(f => /\.sql$/.test(f)).length).to.be.greaterThan(0);
    expect(
      listing.filter(f =>
        /tsbuildinfo|__tests__|^src\/|^sandbox\/task-example\/src|\.ts$/.test(
          f.replace(/\.d\.ts$/, ''),
        ),
      ),
    ).to.eql([]);
  });

  it('ships source maps only with the sources they map', () => {
    const maps = listing.filter(f => f.endsWith('.map'));
    for (const map of maps) {
      const content = JSON.parse(
        execFileSync('tar', ['-xzOf', tarball, `package/${map}`]).toString(),
      ) as {sources: string[]; sourcesContent?: (string | null)[]};
      expect(content.sourcesContent?.length).to.equal(
        content.sources.length,
        `${map} maps sources it does not carry`,
      );
      expect(
        content.sourcesContent!.every(s => typeof s === 'string'),
      ).to.be.true();
    }
  });

  it('ships every file the README links to', () => {
    const links = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map(m => m[1])
      .filter(target => !/^[a-z]+:/.test(target));
    expect(links).to.containEql('docs/webhooks.md');
    expect(links.filter(target => !listing.includes(target))).to.eql([]);
  });

  it('runs its postinstall migration under npm 11 strict script policy once approved, as the README says', async () => {
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({name: 'host-app', private: true}),
    );
    const install = {cwd: dir, env: userEnv()};
    await runOk(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        tarball,
        'kafkajs@^2.2.4',
      ],
      install,
    );
    const rebuild = [
      'rebuild',
      'loopback4-task-service',
      '--strict-allow-scripts',
      '--foreground-scripts',
    ];
    const refused = await run('npm', rebuild, install);
    expect(refused.code).to.not.equal(0);
    expect(refused.output).to.match(
      /ESTRICTALLOWSCRIPTS[\s\S]*loopback4-task-service@/,
    );
    // What the README tells an app to allow; every other dependency's
    // install script is refused, so the policy is enforced, not advisory.
    await runOk('npm', ['approve-scripts', 'loopback4-task-service'], install);
    await runOk('npm', ['deny-scripts', '--all'], install);
    await runOk('npm', rebuild, {
      cwd: dir,
      env: userEnv({
        DB_HOST: PG_ADMIN.host,
        DB_PORT: String(PG_ADMIN.port),
        DB_USER: PG_ADMIN.user,
        DB_DATABASE: database,
        TASK_SERVICE_MIGRATION: 'core,http',
        TASK_SERVICE_MIGRATION_COPY: 'true',
        ...(PG_ADMIN.password ? {DB_PASSWORD: PG_ADMIN.password} : {}),
      }),
    });
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
  });

  it('resolves its subpaths and its command line from the installing app', async () => {
    const output = await runOk(
      process.execPath,
      [
        '-e',
        `const kafka = require('loopback4-task-service/kafka');
         const http = require('loopback4-task-service/http');
         const testing = require('loopback4-task-service/testing');
         const root = require('loopback4-task-service');
         console.log(typeof kafka.KafkaStreamService, typeof http.TaskHttpComponent, typeof testing.InProcessEngine, typeof root.TaskServiceComponent);`,
      ],
      {cwd: dir, env: userEnv()},
    );
    expect(output.trim()).to.equal('function function function function');
    const help = await runOk('npx', ['loopback4-task-service', 'help'], {
      cwd: dir,
      env: userEnv(),
    });
    expect(help).to.match(/loopback4-task-service migrate \[up\|down\]/);
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
