import {ChildProcess, spawn} from 'child_process';
import {expect} from '@loopback/testlab';
import path from 'path';
import {eventually} from '../fixtures/app';
import {assertCamundaUp} from '../fixtures/camunda';
import {cellServer, dataCells} from '../fixtures/matrix';

const ROOT = path.resolve(__dirname, '../../..');
// Plain JavaScript helpers of the repository, as a user runs them.
const {runWalkthrough} = require(path.join(ROOT, 'scripts', 'demo.js')) as {
  runWalkthrough(options: {
    baseUrl: string;
    log: (line: string) => void;
  }): Promise<{
    task: {status: string; id: string};
    userTasks: string[];
    webhooks: {event: {key: string}; verified: boolean; deliveryId: string}[];
  }>;
};

for (const [index, cell] of dataCells().entries()) {
  describe(`The README walkthrough against the example app on ${cell.name}, as a black box over HTTP`, function () {
    this.timeout(180000);
    let app: ChildProcess | undefined;
    let output = '';
    const database = `task_walkthrough_${process.pid}`;
    const port = 20000 + (process.pid % 5000) * 4 + index;
    const server = cellServer(cell);
    const baseUrl = `http://127.0.0.1:${port}`;

    before(async () => {
      await assertCamundaUp();
      await server.dropDatabase(database);
      const env = {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        ...server.env,
        DB_DATABASE: database,
        TASK_INCOMING: 'http',
        TASK_OUTGOING: 'http',
        // The walkthrough's webhook receiver listens on 127.0.0.1.
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      };
      // What `npm start` does after building and starting the services.
      await new Promise<void>((resolve, reject) => {
        const migrate = spawn(
          process.execPath,
          ['scripts/ensure-database.js'],
          {
            cwd: ROOT,
            env,
          },
        );
        migrate.on('exit', code =>
          code === 0
            ? resolve()
            : reject(new Error(`ensure-database exited ${code}`)),
        );
      });
      app = spawn(process.execPath, ['sandbox/task-example/dist/index.js'], {
        cwd: ROOT,
        env,
      });
      app.stdout!.on('data', chunk => (output += chunk));
      app.stderr!.on('data', chunk => (output += chunk));
      // An app that exits before it answers fails at once, with its output.
      let onExit: (code: number | null) => void = () => {};
      const exited = new Promise<never>((_resolve, reject) => {
        onExit = code =>
          reject(
            new Error(
              `The example app exited (${code}) before it answered: ${output}`,
            ),
          );
      });
      app.once('exit', onExit);
      try {
        await Promise.race([
          eventually(
            async () => (await fetch(`${baseUrl}/openapi.json`)).ok,
            `the example app on ${baseUrl}`,
            60000,
            200,
          ),
          exited,
        ]);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nIts output: ${output}`);
      } finally {
        app.off('exit', onExit);
      }
    });

    after(async () => {
      if (app && app.exitCode === null) {
        const exited = new Promise(resolve => app!.once('exit', resolve));
        app.kill('SIGTERM');
        await exited;
      }
      await server.dropDatabase(database);
    });

    it('is ready: its database (and the outbox in it), the engine', async () => {
      type Readiness = {
        status: string;
        checks: {name: string; status: string}[];
      };
      // The REST server answers before `app.start()` has finished, and
      // `/ready` says 503 `lifecycle` ("starting") until it has: wait for
      // it, as an orchestrator does.
      let last: {status: number; body: Readiness} | undefined;
      await eventually(
        async () => {
          const answer = await fetch(`${baseUrl}/ready`);
          last = {
            status: answer.status,
            body: (await answer.json()) as Readiness,
          };
          return answer.status === 200;
        },
        'the app to be ready',
        30000,
        200,
      ).catch(() => undefined);
      const {status, body} = last!;
      expect({status, body}).to.containDeep({
        status: 200,
        body: {status: 'UP'},
      });
      expect(body.checks.map(c => c.name)).to.containDeep([
        'database',
        'engine',
        'outbox',
      ]);
    });

    it('serves the explorer and the OpenAPI document', async () => {
      expect((await fetch(`${baseUrl}/explorer/`)).status).to.equal(200);
      const spec = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
        paths: object;
      };
      expect(Object.keys(spec.paths)).to.containDeep([
        '/events/trigger',
        '/client-apps',
        '/webhooks/subscribe',
        '/workflows',
      ]);
    });

    it('runs the walkthrough: event → task → user tasks completed → signed webhooks', async () => {
      const lines: string[] = [];
      const result = await runWalkthrough({
        baseUrl,
        log: line => lines.push(line),
      });
      expect(result.task.status).to.equal('completed');
      expect(result.userTasks).to.eql(['Review', 'Approve']);
      expect(result.webhooks.map(w => w.event.key)).to.eql([
        'task-created',
        'user-task-completed',
        'user-task-completed',
        'task-completed',
      ]);
      expect(result.webhooks.every(w => w.verified)).to.be.true();
      expect(new Set(result.webhooks.map(w => w.deliveryId)).size).to.equal(4);
    });

    it('refuses a request without a token, with 401', async () => {
      expect((await fetch(`${baseUrl}/tasks`)).status).to.equal(401);
    });
  });
}
