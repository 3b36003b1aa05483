import {expect} from '@loopback/testlab';
import {
  ResolvedRoute,
  Route,
  RestRouter,
  RestRouterOptions,
  TrieRouter,
} from '@loopback/rest';
import {TaskTrieRouter} from '../../rest/trie-router';

const ROUTES: [string, string][] = [
  ['get', '/tasks'],
  ['get', '/tasks/count'],
  ['get', '/tasks/{id}'],
  ['patch', '/tasks/{id}'],
  ['get', '/tasks/{taskId}/user-tasks'],
  ['get', '/tasks/{taskId}/user-tasks/count'],
  ['get', '/tasks/{taskId}/user-tasks/{userTaskId}'],
  ['patch', '/tasks/{taskId}/user-tasks/{userTaskId}/complete'],
  ['get', '/files/{name}.{ext}'],
];

const REQUESTS: [string, string][] = [
  ['GET', '/tasks'],
  ['GET', '/tasks/'],
  ['GET', '/tasks/count'],
  ['GET', '/tasks/7'],
  ['GET', '/tasks/7/'],
  ['PATCH', '/tasks/7'],
  ['DELETE', '/tasks/7'],
  ['GET', '/tasks/7/user-tasks'],
  ['GET', '/tasks/count/user-tasks'],
  ['GET', '/tasks/7/user-tasks/count'],
  ['GET', '/tasks/7/user-tasks/9'],
  ['PATCH', '/tasks/7/user-tasks/9/complete'],
  ['GET', '/tasks/7/user-tasks/9/complete'],
  ['GET', '/tasks/a%2Fb/user-tasks'],
  ['GET', '/files/report.pdf'],
  ['GET', '/nothing/here'],
  ['GET', '/'],
];

function routerOf(
  Router: new (settings?: RestRouterOptions) => RestRouter,
  options?: RestRouterOptions,
): RestRouter {
  const router = new Router(options);
  for (const [verb, path] of ROUTES) {
    router.add(new Route(verb, path, {responses: {}}, () => `${verb} ${path}`));
  }
  return router;
}

/** What a router resolves a request to: the route and its path parameters. */
function resolved(router: RestRouter, method: string, path: string) {
  const found: ResolvedRoute | undefined = router.find({
    method,
    path,
  } as Parameters<RestRouter['find']>[0]);
  return found && {route: `${found.verb} ${found.path}`, ...found.pathParams};
}

describe('TaskTrieRouter', () => {
  for (const strict of [false, true]) {
    it(`resolves every request as LoopBack's TrieRouter does (strict: ${strict})`, () => {
      const ours = routerOf(TaskTrieRouter, {strict});
      const loopbacks = routerOf(TrieRouter, {strict});
      const answers = (router: RestRouter) =>
        REQUESTS.map(([method, path]) => resolved(router, method, path));
      const expected = answers(loopbacks);
      expect(answers(ours)).to.eql(expected);
      // The comparison covers matches with parameters, and misses.
      expect(
        expected.filter(a => a && Object.keys(a).length > 1),
      ).to.not.be.empty();
      expect(expected.filter(a => a === undefined)).to.not.be.empty();
    });
  }

  it('lists the same routes', () => {
    const list = (router: RestRouter) =>
      router.list().map(r => `${r.verb} ${r.path}`);
    expect(list(routerOf(TaskTrieRouter))).to.eql(list(routerOf(TrieRouter)));
  });
});
