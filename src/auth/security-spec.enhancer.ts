import {injectable} from '@loopback/core';
import {
  asSpecEnhancer,
  mergeOpenAPISpec,
  OASEnhancer,
  OpenApiSpec,
} from '@loopback/rest';

/** Declares the bearer-JWT scheme in the OpenAPI document and requires it. */
@injectable(asSpecEnhancer)
export class BearerSecuritySpecEnhancer implements OASEnhancer {
  readonly name = 'task-service-bearer-security';

  modifySpec(spec: OpenApiSpec): OpenApiSpec {
    return mergeOpenAPISpec(spec, {
      components: {
        securitySchemes: {
          HTTPBearer: {type: 'http', scheme: 'bearer', bearerFormat: 'JWT'},
        },
      },
      security: [{HTTPBearer: []}],
    });
  }
}
