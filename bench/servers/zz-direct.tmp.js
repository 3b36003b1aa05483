'use strict';
// Experiment: the example app with POST /events/trigger answered from the HTTP server's request event (no Express, no LoopBack sequence).
const path = require('path');
const {onRequest, ready} = require('../lib/child');
const {BearerJwtStrategy} = require('../../dist/auth/jwt.strategy');
require(path.resolve(__dirname, '../../sandbox/task-example/dist')).main().then(async app => {
  const b = app.find(x => x.valueConstructor === BearerJwtStrategy || x.providerConstructor === BearerJwtStrategy)[0];
  const strategy = await app.get(b.key);
  const controller = await app.get('controllers.EventTriggerController');
  const logger = await app.get(require('../../dist/observability/keys').TaskObservabilityBindings.LOGGER).catch(() => undefined);
  const server = app.restServer.httpServer.server;
  const [orig] = server.listeners('request');
  server.removeAllListeners('request');
  const HEADERS = {'content-security-policy': "default-src 'self'", 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin', 'origin-agent-cluster': '?1', 'referrer-policy': 'no-referrer', 'strict-transport-security': 'max-age=31536000; includeSubDomains', 'x-content-type-options': 'nosniff', 'x-dns-prefetch-control': 'off', 'x-download-options': 'noopen', 'x-frame-options': 'SAMEORIGIN', 'x-permitted-cross-domain-policies': 'none', 'x-xss-protection': '0', 'access-control-allow-origin': '*'};
  server.on('request', (req, res) => {
    if (req.method !== 'POST' || req.url !== '/events/trigger' || !req.headers.authorization) return orig(req, res);
    const t0 = performance.now();
    (async () => {
      await strategy.verifyRequest(req);
      const chunks = []; for await (const c of req) chunks.push(c);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      await controller.trigger(body, req.headers['idempotency-key']);
      res.writeHead(204, HEADERS); res.end();
      logger?.info({method: 'POST', path: '/events/trigger', route: '/events/trigger', status: 204, durationMs: performance.now() - t0}, 'request');
    })().catch(e => { res.writeHead(500); res.end(String(e.message)); });
  });
  ready({url: app.restServer.url, logger: !!logger});
});
