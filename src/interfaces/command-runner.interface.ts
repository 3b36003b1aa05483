import {CommandParameters} from './command.interface';

/** A bound command as a runner sees it: the topic it works on and how to run it. */
export interface CommandSubscription {
  /** The topic of the engine's work items (Camunda: the external-task topic). */
  topic: string;
  /**
   * Runs the command on one work item, in a context of its own, as the
   * system user. Resolves when the command's work is done (it completed the
   * item through `parameters.taskService`); rejects with its failure, which
   * the runner reports to the engine.
   */
  run(parameters: CommandParameters): Promise<void>;
}

/**
 * The port through which the engine's work reaches the commands: it fetches
 * the work items of each subscribed topic and hands each to its command.
 * Camunda's external-task worker is the default; an engine of your own binds
 * its runner at `TaskServiceBindings.COMMAND_RUNNER`.
 */
export interface ICommandRunner {
  /** Starts fetching the work of the subscribed topics. */
  subscribe(subscriptions: CommandSubscription[]): Promise<void>;
  /** Stops fetching, then waits for the commands that are running. */
  unsubscribe(): Promise<void>;
}
