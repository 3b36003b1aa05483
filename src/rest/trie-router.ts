import {inject} from '@loopback/core';
import {
  createResolvedRoute,
  ResolvedRoute,
  RestBindings,
  RestRouterOptions,
  RouteEntry,
  Trie,
  TrieRouter,
} from '@loopback/rest';

/**
 * LoopBack's default router (`TrieRouter`: the same trie, the same keys,
 * the same matches), without its debug line that formats the whole matched
 * route with `util.inspect` on every request to a route with a path
 * parameter, whether debugging is on or not: about 4 % of the CPU of
 * `GET /tasks/{taskId}/user-tasks`. The component binds it as
 * `RestBindings.ROUTER` unless the host bound a router of its own.
 */
export class TaskTrieRouter extends TrieRouter {
  private readonly routes = new Trie<RouteEntry>();

  constructor(
    @inject(RestBindings.ROUTER_OPTIONS, {optional: true})
    options?: RestRouterOptions,
  ) {
    super(options);
  }

  protected override addRouteWithPathVars(route: RouteEntry): void {
    this.routes.create(this.getKeyForRoute(route), route);
  }

  protected override findRouteWithPathVars(
    verb: string,
    path: string,
  ): ResolvedRoute | undefined {
    const found = this.routes.match(this.getKey(verb, path));
    const route = found?.node.value;
    return route ? createResolvedRoute(route, found.params ?? {}) : undefined;
  }

  protected override listRoutesWithPathVars(): RouteEntry[] {
    return this.routes.list().map(node => node.value);
  }
}
