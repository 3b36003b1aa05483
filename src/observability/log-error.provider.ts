import {inject, Provider} from '@loopback/core';
import {LogError, Request} from '@loopback/rest';
import {TaskObservabilityBindings} from './keys';
import {pathOf} from './logger';
import {TaskLogger} from './types';

/**
 * How the REST sequence logs a request that failed: through the service's
 * logger, with the path but not the query string, and the error's message
 * (its stack only at debug level). Client errors (4xx) are logged at debug.
 */
export class TaskLogErrorProvider implements Provider<LogError> {
  constructor(
    @inject(TaskObservabilityBindings.LOGGER)
    private readonly logger: TaskLogger,
  ) {}

  value(): LogError {
    return (err: Error, statusCode: number, request: Request) => {
      const fields = {
        err,
        status: statusCode,
        method: request.method,
        path: pathOf(request.originalUrl ?? request.url),
      };
      if (statusCode >= 500) this.logger.error(fields, 'Request failed');
      else this.logger.debug(fields, 'Request refused');
    };
  }
}
