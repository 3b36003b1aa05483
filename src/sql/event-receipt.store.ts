import {Options} from '@loopback/repository';

/**
 * What became of incoming events that carry a source id: the event stored
 * for each (`event_receipts`) and the mapped workflows each has started
 * (`event_workflow_runs`).
 */
export interface EventReceiptStore {
  /**
   * Claims `sourceId` for the event stored in the transaction of `options`:
   * false when another delivery of it got there first (this waits for that
   * one's transaction).
   */
  claim(sourceId: string, eventId: string, options: Options): Promise<boolean>;
  /** The event stored for `sourceId`, if any. */
  eventIdOf(sourceId: string): Promise<string | undefined>;
  /** Whether the event has started (or skipped) the workflow mapped under `workflowKey`. */
  hasStarted(eventId: string, workflowKey: string): Promise<boolean>;
  /** Records that the event started the workflow (instance id, or none when skipped). */
  recordStart(
    eventId: string,
    workflowKey: string,
    instanceId?: string,
  ): Promise<void>;
}
