import {inject, Provider} from '@loopback/core';
import {TaskObservabilityBindings} from './keys';
import {createTaskLogger} from './logger';
import {TaskLogger, TaskObservabilityConfig} from './types';

/** The default logger: pino, configured by `CONFIG.logging`. */
export class TaskLoggerProvider implements Provider<TaskLogger> {
  constructor(
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    private readonly config: TaskObservabilityConfig = {},
  ) {}

  value(): TaskLogger {
    return createTaskLogger(this.config.logging);
  }
}
