import {inject} from '@loopback/core';
import {
  DataObject,
  DefaultTransactionalRepository,
  juggler,
} from '@loopback/repository';
import {Event} from '../models';
import {TaskDbSourceName} from '../types';

/** Model classes whose `timestamp` is already converted on load. */
const numericTimestamps = new WeakSet<object>();

export class EventRepository extends DefaultTransactionalRepository<
  Event,
  typeof Event.prototype.id,
  {}
> {
  constructor(
    @inject(`datasources.${TaskDbSourceName}`) dataSource: juggler.DataSource,
  ) {
    super(Event, dataSource);
    // The datasource's model class is shared by every repository instance
    // (one per request): its observer is registered once, not per instance.
    if (!numericTimestamps.has(this.modelClass)) {
      numericTimestamps.add(this.modelClass);
      // PostgreSQL hands bigint columns over as strings; the model says number.
      this.modelClass.observe('loaded', async ctx => {
        if (ctx.data?.timestamp != null) {
          ctx.data.timestamp = Number(ctx.data.timestamp);
        }
      });
    }
  }

  /**
   * Stores the event once per `sourceId`: a redelivery gets the id of the
   * event stored the first time, with `fresh: false`. Without a source id
   * every call stores a new event.
   */
  async storeOnce(
    data: DataObject<Event>,
    sourceId?: string,
  ): Promise<{id: string; fresh: boolean}> {
    if (!sourceId) return {id: (await this.create(data)).id!, fresh: true};
    const tx = await this.beginTransaction();
    const options = {transaction: tx};
    try {
      const stored = await this.create(data, options);
      // Waits for a concurrent delivery of the same event, then yields to it.
      const claimed = (await this.dataSource.execute(
        `INSERT INTO main.event_receipts (source_id, event_id) VALUES ($1, $2)
         ON CONFLICT (source_id) DO NOTHING RETURNING event_id`,
        [sourceId, stored.id],
        options,
      )) as unknown[];
      if (claimed.length) {
        await tx.commit();
        return {id: stored.id!, fresh: true};
      }
      await tx.rollback();
    } catch (err) {
      await tx.rollback();
      throw err;
    }
    const [receipt] = (await this.dataSource.execute(
      'SELECT event_id AS "eventId" FROM main.event_receipts WHERE source_id = $1',
      [sourceId],
    )) as {eventId: string}[];
    return {id: receipt.eventId, fresh: false};
  }

  /** Whether the event has started the workflow mapped under `workflowKey`. */
  async hasStarted(eventId: string, workflowKey: string): Promise<boolean> {
    const rows = (await this.dataSource.execute(
      'SELECT 1 FROM main.event_workflow_runs WHERE event_id = $1 AND workflow_key = $2',
      [eventId, workflowKey],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Records that the event started the workflow (instance id, or none when skipped). */
  async recordStart(
    eventId: string,
    workflowKey: string,
    instanceId?: string,
  ): Promise<void> {
    await this.dataSource.execute(
      `INSERT INTO main.event_workflow_runs (event_id, workflow_key, instance_id)
       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [eventId, workflowKey, instanceId ?? null],
    );
  }
}
