'use strict';
/**
 * The ceiling of the webhook benchmark: a raw keep-alive HTTP client that
 * signs and posts bodies as the delivery worker does (same headers, same
 * HMAC), CONCURRENCY at once. No database, no framework.
 */
const http = require('http');
const {createHmac} = require('crypto');
const {onRequest, ready} = require('../lib/child');

const concurrency = Number(process.env.CONCURRENCY);
const agent = new http.Agent({keepAlive: true, maxSockets: concurrency});

function post(url, body, secret, id) {
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', secret)
    .update(`${body}:${timestamp}`)
    .digest('hex');
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-task-timestamp': timestamp,
          'x-task-signature': signature,
          'x-task-delivery-id': id,
        },
      },
      res => {
        res.resume();
        res.on('end', () =>
          res.statusCode < 300
            ? resolve()
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Posts `n` bodies; resolves with the ms it took. */
onRequest('post', async ({url, bodies, secret, n, prefix}) => {
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < n) {
        const i = next++;
        await post(url, bodies[i % bodies.length], secret, `${prefix}-${i}`);
      }
    }),
  );
  return {ms: Date.now() - started};
});
ready({});
