import {BindingScope, Constructor, injectable} from '@loopback/core';
import {expect} from '@loopback/testlab';
import {CamundaService} from '../../engines/camunda';
import {
  CommandParameters,
  ICommand,
  SHARED_COMMAND,
  SharedCommand,
} from '../../interfaces';
import {eventually, givenTestApp, TestApp} from '../fixtures/app';
import {bpmn, BpmnName} from '../fixtures/bpmn';
import {assertCamundaUp, deleteTenantDefinitions} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const BUSY_TOPIC = `busy-${process.pid}`;
const SHARED_TOPIC = `shared-${process.pid}`;
const SUBCLASS_TOPIC = `shared-subclass-${process.pid}`;
const MAX_TASKS = 2;
const RUNS = 6;

/** Holds its external task for a while, counting how many run at once. */
@injectable({scope: BindingScope.TRANSIENT})
class BusyCommand implements ICommand {
  static running = 0;
  static most = 0;
  static done = 0;
  topic = BUSY_TOPIC;
  parameters: CommandParameters;
  async execute() {
    BusyCommand.running++;
    BusyCommand.most = Math.max(BusyCommand.most, BusyCommand.running);
    try {
      await new Promise(r => setTimeout(r, 500));
      await this.parameters.taskService.complete(this.parameters.task);
      BusyCommand.done++;
    } finally {
      BusyCommand.running--;
    }
  }
}

/** The instance each run of a class ran on, by class. */
const ranOn = new Map<Constructor<ICommand>, Set<object>>();
/** The external tasks each class ran, by class. */
const ran = new Map<Constructor<ICommand>, string[]>();

/** A command marked to run every work item on one instance. */
@injectable({scope: BindingScope.TRANSIENT})
class SharedCommandOfTest implements SharedCommand {
  static readonly [SHARED_COMMAND] = true;
  topic = SHARED_TOPIC;
  parameters: CommandParameters;
  execute() {
    return this.executeWith(this.parameters);
  }
  async executeWith({task, taskService}: CommandParameters) {
    const type = this.constructor as Constructor<ICommand>;
    if (!ranOn.has(type)) ranOn.set(type, new Set());
    if (!ran.has(type)) ran.set(type, []);
    ranOn.get(type)!.add(this);
    ran.get(type)!.push(task.id!);
    await taskService.complete(task);
  }
}

/** A subclass that does not mark itself: resolved for each run again. */
@injectable({scope: BindingScope.TRANSIENT})
class SubclassCommand extends SharedCommandOfTest {
  override topic = SUBCLASS_TOPIC;
}

describe('Command workers on Camunda (PostgreSQL)', function () {
  this.timeout(60000);
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  let db: TestDatabase;
  let t: TestApp;

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    t = await givenTestApp({
      db,
      commands: [BusyCommand, SharedCommandOfTest, SubclassCommand],
      workflowConfig: {workerMaxTasks: MAX_TASKS},
    });
  });

  after(async () => {
    await t?.stop();
    await deleteTenantDefinitions(db.name);
    await db?.drop();
  });

  async function deploy(
    name: BpmnName,
    replacements: Record<string, string> = {},
  ): Promise<{id: string; externalIdentifier: string}> {
    const res = await t.client
      .post('/workflows')
      .set(admin)
      .send({
        name: `${name}-${Date.now()}`,
        bpmnFile: bpmn(name, replacements).xml,
      })
      .expect(200);
    return res.body;
  }

  async function startMany(workflowId: string, n: number) {
    for (let i = 0; i < n; i++) {
      await t.client
        .post(`/workflows/${workflowId}/execute`)
        .set(admin)
        .send({input: {}})
        .expect(200);
    }
  }

  it(`runs at most workerMaxTasks (${MAX_TASKS}) commands at once, and all of them`, async () => {
    const workflow = await deploy('failing', {TOPIC: BUSY_TOPIC});
    await startMany(workflow.id, RUNS);
    await eventually(
      () => BusyCommand.done === RUNS,
      `${RUNS} busy commands done`,
      30000,
    );
    expect(BusyCommand.most).to.equal(MAX_TASKS);
  });

  it('runs a command marked SHARED_COMMAND on one instance, and a subclass of it on one per run', async () => {
    const shared = await deploy('failing', {TOPIC: SHARED_TOPIC});
    const subclass = await deploy('failing', {TOPIC: SUBCLASS_TOPIC});
    await startMany(shared.id, 3);
    await startMany(subclass.id, 3);
    await eventually(
      () =>
        ran.get(SharedCommandOfTest)?.length === 3 &&
        ran.get(SubclassCommand)?.length === 3,
      'three runs of each command',
      30000,
    );
    expect(new Set(ran.get(SharedCommandOfTest)).size).to.equal(3);
    expect(ranOn.get(SharedCommandOfTest)!.size).to.equal(1);
    expect(new Set(ran.get(SubclassCommand)).size).to.equal(3);
    expect(ranOn.get(SubclassCommand)!.size).to.equal(3);
  });

  it('tells a definition that holds a user task from one that holds none', async () => {
    const engine = await t.app.get<CamundaService>('services.CamundaService');
    const withUserTasks = await deploy('child');
    const without = await deploy('failing', {TOPIC: BUSY_TOPIC});
    expect(
      await engine.definitionHasUserTasks(withUserTasks.externalIdentifier),
    ).to.be.true();
    expect(
      await engine.definitionHasUserTasks(without.externalIdentifier),
    ).to.be.false();
    // Asked again: the same answers (kept; a definition never changes).
    expect(
      await engine.definitionHasUserTasks(withUserTasks.externalIdentifier),
    ).to.be.true();
    await expect(
      engine.definitionHasUserTasks(`${without.externalIdentifier}-missing`),
    ).to.be.rejectedWith(/404/);
  });
});
