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
  /**
   * Claims the start of the workflow mapped under `workflowKey` for the
   * event, in the transaction of `options`: false when it has started (or
   * been skipped) already. A concurrent delivery of the same event waits
   * here for the first one's transaction, so only one of them starts it.
   */
  claimStart(
    eventId: string,
    workflowKey: string,
    options: Options,
  ): Promise<boolean>;
  /**
   * Records the instance the claimed start made (none when the workflow was
   * unknown and skipped). Without `options.transaction` it claims and
   * records in one statement.
   */
  recordStart(
    eventId: string,
    workflowKey: string,
    instanceId: string | undefined,
    options?: Options,
  ): Promise<void>;
}
