import {Options} from '@loopback/repository';

/** The engine work items whose command has committed its work (`command_runs`). */
export interface CommandRunStore {
  /**
   * Claims the work item for the transaction in `options`: true if its work
   * is still to do, false if a committed run did it already. A concurrent
   * run of the same item waits here for the first one's transaction.
   */
  claim(
    externalTaskId: string,
    topic: string,
    options: Options,
  ): Promise<boolean>;
  /**
   * Gives up the claim in the transaction of `options`: the work it stood
   * for was undone, so a retry of the item does it again.
   */
  release(externalTaskId: string, options: Options): Promise<void>;
}
