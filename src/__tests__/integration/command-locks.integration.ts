import {BindingScope, injectable} from '@loopback/core';
import {expect} from '@loopback/testlab';
import {CommandParameters, ICommand} from '../../interfaces';
import {givenTestApp, TestApp} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {
  assertCamundaUp,
  camunda,
  deleteTenantDefinitions,
} from '../fixtures/camunda';
import {TestDatabase} from '../fixtures/database';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

const SLOW_TOPIC = `slow-${process.pid}`;
const LOCK_MS = 1000;

/** A command that runs three times as long as its lock. */
@injectable({scope: BindingScope.TRANSIENT})
class SlowCommand implements ICommand {
  static runs = 0;
  topic = SLOW_TOPIC;
  parameters: CommandParameters;
  async execute() {
    SlowCommand.runs++;
    await new Promise(r => setTimeout(r, LOCK_MS * 3));
    await this.parameters.taskService.complete(this.parameters.task);
  }
}

describe('Short external-task locks that a running command extends (PostgreSQL, Camunda)', function () {
  this.timeout(60000);
  const admin = bearer(tokenWith(ALL_PERMISSIONS));
  let db: TestDatabase;
  const instances: TestApp[] = [];

  before(async () => {
    await assertCamundaUp();
    db = await TestDatabase.create();
    // Two instances of one deployment, both working the slow topic.
    for (let i = 0; i < 2; i++) {
      instances.push(
        await givenTestApp({
          db,
          commands: [SlowCommand],
          workflowConfig: {commandLockMs: LOCK_MS},
        }),
      );
    }
  });

  after(async () => {
    for (const t of instances) await t.stop();
    await deleteTenantDefinitions(db.name);
    await db?.drop();
  });

  it('a command running past its lock keeps it: the other instance never takes the job', async () => {
    const [first] = instances;
    const deployed = await first.client
      .post('/workflows')
      .set(admin)
      .send({
        name: 'slow',
        bpmnFile: bpmn('failing', {TOPIC: SLOW_TOPIC}).xml,
      })
      .expect(200);
    const started = await first.client
      .post(`/workflows/${deployed.body.id}/execute`)
      .set(admin)
      .send({input: {}})
      .expect(200);
    // While the command runs, the engine's lock never reaches further than
    // one lock length ahead (a killed instance's job is free by then), and
    // it moves on as the command renews it.
    const locks = new Set<string>();
    let ended = false;
    const deadline = Date.now() + 30000;
    while (!ended) {
      if (Date.now() > deadline) throw new Error('the instance did not end');
      const seenAt = Date.now();
      const [job] = await camunda<{lockExpirationTime: string | null}[]>(
        `/external-task?processInstanceId=${started.body.id}&locked=true`,
      );
      if (job?.lockExpirationTime) {
        const expires = Date.parse(
          job.lockExpirationTime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'),
        );
        expect(expires - seenAt).to.be.belowOrEqual(LOCK_MS + 500);
        locks.add(job.lockExpirationTime);
      }
      ended =
        (
          await camunda<{count: number}>(
            `/process-instance/count?processInstanceIds=${started.body.id}`,
          )
        ).count === 0;
      await new Promise(r => setTimeout(r, 100));
    }
    expect(locks.size).to.be.above(1);
    expect(SlowCommand.runs).to.equal(1);
    const incidents = await camunda<unknown[]>(
      `/incident?tenantIdIn=${db.name}`,
    );
    expect(incidents).to.eql([]);
  });
});
