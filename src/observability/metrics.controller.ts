import {inject} from '@loopback/core';
import {get, Request, Response, RestBindings} from '@loopback/rest';
import {TaskObservabilityBindings} from './keys';
import {TaskMetrics} from './metrics';
import {bearerMatches} from './metrics-auth';
import {TaskObservabilityConfig} from './types';

/**
 * `GET /metrics` on the REST server, in Prometheus' text format. With
 * `metrics.token` configured a scrape needs `Authorization: Bearer <token>`;
 * the app's JWTs are not asked for, so a Prometheus server needs no user.
 */
export class MetricsController {
  constructor(
    @inject(TaskObservabilityBindings.METRICS)
    private readonly metrics: TaskMetrics,
    @inject(TaskObservabilityBindings.CONFIG, {optional: true})
    private readonly config: TaskObservabilityConfig = {},
  ) {}

  @get('/metrics', {
    summary: 'Prometheus metrics',
    description:
      'Prometheus text format. When the service is configured with a metrics token, send it as `Authorization: Bearer <token>`; otherwise 401. Needs no JWT.',
    responses: {
      '200': {
        description: 'The metrics',
        content: {'text/plain': {schema: {type: 'string'}}},
      },
      '401': {description: 'The metrics token is missing or wrong'},
    },
  })
  async scrape(
    @inject(RestBindings.Http.REQUEST) request: Request,
    @inject(RestBindings.Http.RESPONSE) response: Response,
  ): Promise<Response> {
    const token = this.config.metrics?.token;
    if (token && !bearerMatches(request.headers.authorization, token)) {
      response
        .status(401)
        .set('www-authenticate', 'Bearer')
        .json({error: {statusCode: 401, message: 'Metrics token required'}});
      return response;
    }
    const body = await this.metrics.text();
    response
      .status(200)
      .set('content-type', this.metrics.contentType)
      .send(body);
    return response;
  }
}
