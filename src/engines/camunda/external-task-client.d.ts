// The parts of camunda-external-task-client-js 2.x that the worker uses
// (the package ships no types).
declare module 'camunda-external-task-client-js' {
  import {EventEmitter} from 'events';
  import {ExternalTaskLike, ExternalTaskServiceLike} from '../../interfaces';

  export interface ClientOptions {
    baseUrl: string;
    workerId?: string;
    maxTasks?: number;
    interval?: number;
    lockDuration?: number;
    autoPoll?: boolean;
    asyncResponseTimeout?: number;
    maxParallelExecutions?: number;
  }

  export type TopicHandler = (args: {
    task: ExternalTaskLike;
    taskService: ExternalTaskServiceLike;
  }) => Promise<void>;

  /** What a subscription fetches; the engine's fetch-and-lock topic filters. */
  export interface SubscribeOptions {
    lockDuration?: number;
    variables?: string[];
    tenantIdIn?: string[];
    withoutTenantId?: boolean;
    processDefinitionKeyIn?: string[];
  }

  export class Client extends EventEmitter {
    constructor(options: ClientOptions);
    /** Read again before each poll (`interval` is the pause before the next). */
    options: ClientOptions & {interval: number};
    subscribe(topic: string, handler: TopicHandler): {unsubscribe(): void};
    subscribe(
      topic: string,
      options: SubscribeOptions,
      handler: TopicHandler,
    ): {unsubscribe(): void};
    start(): void;
    stop(): void;
  }
}

declare module 'camunda-external-task-client-js' {
  export class Variables {
    setTyped(
      name: string,
      typedValue: {type: string; value: unknown; valueInfo?: object},
    ): Variables;
    getAllTyped(): Record<string, {type: string; value: unknown}>;
  }
}
