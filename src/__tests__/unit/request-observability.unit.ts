import {Context} from '@loopback/core';
import {MiddlewareContext, ResolvedRoute, RestBindings} from '@loopback/rest';
import {expect} from '@loopback/testlab';
import {routeOf} from '../../observability/request-observability.middleware';

describe('Request observability (unit)', () => {
  describe('routeOf', () => {
    const route = {path: '/tasks/{id}'} as ResolvedRoute;

    function requestContext(bind?: (ctx: Context) => void): MiddlewareContext {
      const parent = new Context('app');
      const ctx = new Context(parent, 'request');
      bind?.(ctx);
      return ctx as MiddlewareContext;
    }

    it('reads the route the router bound', () => {
      expect(
        routeOf(
          requestContext(c => c.bind(RestBindings.Operation.ROUTE).to(route)),
        ),
      ).to.equal('/tasks/{id}');
    });

    it('resolves a route bound otherwise', () => {
      expect(
        routeOf(
          requestContext(c =>
            c.bind(RestBindings.Operation.ROUTE).toDynamicValue(() => route),
          ),
        ),
      ).to.equal('/tasks/{id}');
    });

    it('none when no route was found', () => {
      expect(routeOf(requestContext())).to.be.undefined();
    });
  });
});
