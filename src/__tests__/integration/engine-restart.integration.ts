import {expect} from '@loopback/testlab';
import {LOCAL_ENGINE_URL} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {assertCamundaUp} from '../fixtures/camunda';
import {PG_ADMIN, pgQuery} from '../fixtures/database';
import {
  assertJava,
  freePort,
  isRunning,
  recordedPid,
  services,
} from '../fixtures/services';

interface UserTaskRow {
  id: string;
  name: string;
  taskDefinitionKey: string;
  processInstanceId: string;
}

/** A raw call to the REST API of the engine at BASE. */
async function rest<T>(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  if (!res.ok)
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * A second engine started from this checkout on a port of its own keeps its
 * deployments, instances and user tasks across `services.sh restart` (its
 * state is in PostgreSQL), and the engine the other tests use is left alone.
 */
describe('Camunda engine restart (Java, PostgreSQL, Camunda)', function () {
  // Starting an engine takes 15-40 s on two cores; building it, minutes.
  this.timeout(600000);
  const defaultPort = Number(new URL(LOCAL_ENGINE_URL).port || 80);
  const child = bpmn('child');
  let port: number;
  let env: Record<string, string>;
  let base: string;
  let database: string;
  let defaultPid: number | undefined;
  let started = false;

  async function databaseExists(): Promise<boolean> {
    const rows = await pgQuery(
      PG_ADMIN,
      'SELECT 1 FROM pg_database WHERE datname = $1',
      [database],
    );
    return rows.length === 1;
  }

  before(async () => {
    await assertJava();
    await pgQuery(PG_ADMIN, 'SELECT 1');
    await assertCamundaUp();
    defaultPid = recordedPid('camunda', defaultPort);
    if (defaultPid !== undefined) expect(isRunning(defaultPid)).to.be.true();

    port = await freePort();
    base = `http://127.0.0.1:${port}/engine-rest`;
    database = `camunda_engine_${port}`;
    // The engine's database lives on the tests' PostgreSQL server.
    env = {
      CAMUNDA_PORT: String(port),
      CAMUNDA_DB_HOST: PG_ADMIN.host,
      CAMUNDA_DB_PORT: String(PG_ADMIN.port),
      CAMUNDA_DB_USER: PG_ADMIN.user,
      CAMUNDA_DB_PASSWORD: PG_ADMIN.password ?? '',
    };
    // A run that died before its clean-up may have left this port's database.
    await services('reset', 'camunda', env);
    expect(await databaseExists()).to.be.false();
    started = true;
    await services('up', 'camunda', env);
  });

  after(async () => {
    if (!started) return;
    await services('down', 'camunda', env);
    await services('reset', 'camunda', env);
    expect(await databaseExists()).to.be.false();
  });

  it('starts on its own port with a database of its own', async () => {
    await assertCamundaUp(base);
    expect(await databaseExists()).to.be.true();
    const pid = recordedPid('camunda', port);
    expect(pid).to.be.a.Number();
    expect(pid).to.not.equal(defaultPid);
    expect(isRunning(pid!)).to.be.true();
  });

  it('keeps a process instance and its user task across a restart', async () => {
    const form = new FormData();
    form.append('deployment-name', child.key);
    form.append('data', new Blob([child.xml]), `${child.key}.bpmn`);
    await rest(base, '/deployment/create', {method: 'POST', body: form});
    const instance = await rest<{id: string}>(
      base,
      `/process-definition/key/${child.key}/start`,
      {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({businessKey: `restart-${port}`}),
      },
    );
    const before = await rest<UserTaskRow[]>(
      base,
      `/task?processInstanceId=${instance.id}`,
    );
    expect(before).to.have.length(1);
    expect(before[0].taskDefinitionKey).to.equal('firstReview');
    const pidBefore = recordedPid('camunda', port)!;

    const output = await services('restart', 'camunda', env);
    expect(output).to.match(/stopping camunda/);

    const pidAfter = recordedPid('camunda', port)!;
    expect(pidAfter).to.not.equal(pidBefore);
    expect(isRunning(pidBefore)).to.be.false();
    expect(isRunning(pidAfter)).to.be.true();

    const kept = await rest<{id: string; ended: boolean; businessKey: string}>(
      base,
      `/process-instance/${instance.id}`,
    );
    expect(kept).to.containDeep({ended: false, businessKey: `restart-${port}`});
    const after = await rest<UserTaskRow[]>(
      base,
      `/task?processInstanceId=${instance.id}`,
    );
    expect(after).to.deepEqual(before);

    // The restored instance goes on: completing the task reaches the next one.
    await rest(base, `/task/${after[0].id}/complete`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: '{}',
    });
    const next = await rest<UserTaskRow[]>(
      base,
      `/task?processInstanceId=${instance.id}`,
    );
    expect(next.map(t => t.taskDefinitionKey)).to.deepEqual(['secondReview']);
  });

  it('leaves the default engine alone', async () => {
    await assertCamundaUp();
    expect(recordedPid('camunda', defaultPort)).to.equal(defaultPid);
    if (defaultPid !== undefined) expect(isRunning(defaultPid)).to.be.true();
    // The deployment went to the second engine only.
    const there = await rest<unknown[]>(
      LOCAL_ENGINE_URL,
      `/process-definition?key=${child.key}`,
    );
    expect(there).to.have.length(0);
  });
});
