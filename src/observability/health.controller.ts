import {inject, service} from '@loopback/core';
import {get, Response, RestBindings, SchemaObject} from '@loopback/rest';
import {ReadinessService} from './readiness.service';
import {ReadinessReport} from './types';

const READINESS_SCHEMA: SchemaObject = {
  title: 'Readiness',
  type: 'object',
  required: ['status', 'failing', 'checks'],
  properties: {
    status: {type: 'string', enum: ['UP', 'DOWN']},
    failing: {
      type: 'array',
      items: {type: 'string'},
      description: 'The names of the checks that failed.',
    },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'status', 'durationMs'],
        properties: {
          name: {
            type: 'string',
            description:
              'lifecycle, database, workflow-database, engine, kafka (when a Kafka connector is bound), outbox',
          },
          status: {type: 'string', enum: ['up', 'down']},
          durationMs: {type: 'number'},
          error: {type: 'string'},
        },
      },
    },
  },
};

/**
 * `GET /health` and `GET /ready`, open without a token so that probes and
 * load balancers can call them.
 */
export class HealthController {
  constructor(
    @service(ReadinessService) private readonly readiness: ReadinessService,
  ) {}

  /** The process is alive and serves HTTP. */
  @get('/health', {
    summary: 'Liveness: the process is alive',
    description: 'Needs no token. Answers 200 while the process serves HTTP.',
    responses: {
      '200': {
        description: 'Alive',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                status: {type: 'string', enum: ['UP']},
                uptimeSeconds: {type: 'number'},
              },
            },
          },
        },
      },
    },
  })
  health(): {status: 'UP'; uptimeSeconds: number} {
    return {status: 'UP', uptimeSeconds: Math.round(process.uptime())};
  }

  /** Whether the service can do its work now. */
  @get('/ready', {
    summary: 'Readiness: database, engine, broker and outbox',
    description:
      'Needs no token. 200 when every check passes; 503 naming the failing checks in `failing` when one does not: the app is starting or shutting down (lifecycle), the database or the workflow engine does not answer, the Kafka broker does not answer (when a Kafka connector is bound), or the oldest unpublished outgoing event is older than the configured bound (outbox).',
    responses: {
      '200': {
        description: 'Ready',
        content: {'application/json': {schema: READINESS_SCHEMA}},
      },
      '503': {
        description: 'Not ready; `failing` names the checks that failed',
        content: {'application/json': {schema: READINESS_SCHEMA}},
      },
    },
  })
  async ready(
    @inject(RestBindings.Http.RESPONSE) response: Response,
  ): Promise<ReadinessReport> {
    const report = await this.readiness.check();
    response.status(report.status === 'UP' ? 200 : 503);
    return report;
  }
}
