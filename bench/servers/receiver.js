'use strict';
/**
 * A webhook receiver for the benchmarks: node:http, answers 204 at once and
 * counts the deliveries it got (by delivery id, so a repeat shows).
 */
const http = require('http');
const {onRequest, ready, exitOnSigterm} = require('../lib/child');

let received = 0;
let connections = 0;
const ids = new Set();
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    received++;
    const id = req.headers['x-task-delivery-id'];
    if (id) ids.add(id);
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.on('connection', () => connections++);

onRequest('count', async () => ({received, unique: ids.size, connections}));
exitOnSigterm(() => new Promise(resolve => server.close(resolve)));
server.listen(0, '127.0.0.1', () => {
  ready({url: `http://127.0.0.1:${server.address().port}/hook`});
});
