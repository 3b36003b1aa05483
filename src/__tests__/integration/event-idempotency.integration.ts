import {expect} from '@loopback/testlab';
import {CamundaService} from '../../engines/camunda';
import {IEvent, StartedInstance} from '../../interfaces';
import {TaskServiceBindings} from '../../keys';
import {givenTestApp, LOCAL_ENGINE_URL, TestApp} from '../fixtures/app';
import {bpmn} from '../fixtures/bpmn';
import {assertCamundaUp, camunda} from '../fixtures/camunda';
import {CellDatabase, dataCells, givenCellDatabase} from '../fixtures/matrix';
import {ALL_PERMISSIONS, bearer, tokenWith} from '../fixtures/tokens';

/** The real engine, failing the next start of one definition once (an engine hiccup). */
class HiccupEngine extends CamundaService {
  failOnce?: string;
  override async start(
    definitionId: string,
    input: object,
  ): Promise<StartedInstance> {
    if (definitionId === this.failOnce) {
      this.failOnce = undefined;
      throw new Error('engine hiccup');
    }
    return super.start(definitionId, input);
  }
}

for (const cell of dataCells()) {
  describe(`An incoming event with a source id is handled once (${cell.name}, Camunda)`, function () {
    this.timeout(60000);
    let db: CellDatabase;
    let t: TestApp;
    const engine = new HiccupEngine({workflowEngineBaseUrl: LOCAL_ENGINE_URL});
    const admin = bearer(tokenWith(ALL_PERMISSIONS));
    const definitions: string[] = [];

    before(async () => {
      await assertCamundaUp();
      db = await givenCellDatabase(cell);
      t = await givenTestApp({
        db,
        after: app => app.bind(TaskServiceBindings.WORKFLOW_MANAGER).to(engine),
      });
    });
    after(async () => {
      await t?.stop();
      for (const id of definitions) {
        await camunda(`/process-definition/${id}?cascade=true`, {
          method: 'DELETE',
        }).catch(() => undefined);
      }
      await db?.drop();
    });

    async function deployAndMap(eventKey: string): Promise<string> {
      const res = await t.client
        .post('/workflows')
        .set(admin)
        .send({name: 'child', bpmnFile: bpmn('child').xml})
        .expect(200);
      definitions.push(res.body.externalIdentifier);
      await t.client
        .post('/events/mapping')
        .set(admin)
        .send({eventKey, workflowKey: res.body.externalIdentifier})
        .expect(200);
      return res.body.externalIdentifier;
    }

    async function instancesOf(definitionId: string): Promise<number> {
      const list = await camunda<unknown[]>(
        `/process-instance?processDefinitionId=${definitionId}`,
      );
      return list.length;
    }

    it('a redelivery after an engine failure stores nothing twice and starts only what had not started', async () => {
      const eventKey = `once-${process.pid}`;
      const first = await deployAndMap(eventKey);
      const second = await deployAndMap(eventKey);
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      const event: IEvent = {
        id: `kafka:orders:0:${Date.now()}`,
        key: eventKey,
        payload: {taskId: 'x'},
        timestamp: Date.now(),
        source: 'kafka',
      };
      // Mappings are started in the order they were made: the second fails.
      engine.failOnce = second;
      await expect(processor.handle(event)).to.be.rejectedWith(/engine hiccup/);
      expect(await instancesOf(first)).to.equal(1);
      expect(await instancesOf(second)).to.equal(0);

      // The connector redelivers (Kafka: the offset was not committed).
      await processor.handle(event);
      await processor.handle(event);
      expect(await instancesOf(first)).to.equal(1);
      expect(await instancesOf(second)).to.equal(1);
      const stored = await db.rows('events', {where: {key: eventKey}});
      expect(stored).to.have.length(1);
    });

    it('deliveries of one source id at the same time store one event', async () => {
      const eventKey = `together-${process.pid}`;
      const definition = await deployAndMap(eventKey);
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      const event: IEvent = {
        id: `kafka:orders:1:${Date.now()}`,
        key: eventKey,
        payload: {taskId: 'y'},
        timestamp: Date.now(),
        source: 'kafka',
      };
      await Promise.all(Array.from({length: 5}, () => processor.handle(event)));
      expect(
        await db.rows('event_receipts', {where: {source_id: event.id}}),
      ).to.have.length(1);
      expect(await db.rows('events', {where: {key: eventKey}})).to.have.length(
        1,
      );
      expect(await instancesOf(definition)).to.be.above(0);
    });

    it('without a source id, every delivery is a new event (as the original)', async () => {
      const processor = await t.app.get(TaskServiceBindings.EVENT_PROCESSOR);
      const event = {key: 'no-id', payload: {}, timestamp: 1, source: 's'};
      await processor.handle(event);
      await processor.handle(event);
      const stored = await db.rows('events', {where: {key: 'no-id'}});
      expect(stored).to.have.length(2);
    });
  });
}
