import {expect} from '@loopback/testlab';
import {readdirSync, readFileSync, statSync} from 'fs';
import path from 'path';
import {Writable} from 'stream';
import {
  addLogContext,
  bearerMatches,
  createTaskLogger,
  currentLogContext,
  errorFields,
  pathOf,
  safeUrl,
  scrub,
  withLogContext,
  withoutRedaction,
} from '../../observability';
import type {TaskLogger} from '../../observability';
import {capturingLogger} from '../fixtures/log-capture';

describe('Logging (unit)', () => {
  it('writes one JSON object a line, with an ISO time and the level by name', () => {
    const {logger, records} = capturingLogger('info');
    logger.info({taskId: 't-1'}, 'Task completed');
    logger.debug('not at info');
    const [line, ...rest] = records();
    expect(rest).to.be.empty();
    expect(line).to.containDeep({
      level: 'info',
      service: 'task-service',
      taskId: 't-1',
      msg: 'Task completed',
    });
    expect(new Date(String(line.time)).toISOString()).to.equal(line.time);
  });

  it("puts the fields of the current context on every line, added to along the way, and the call's own fields win", async () => {
    const {logger, records} = capturingLogger();
    await withLogContext({requestId: 'r-1'}, async () => {
      logger.info('in the request');
      await withLogContext({eventKey: 'order.received'}, async () => {
        addLogContext({
          eventId: 'e-1',
          empty: undefined,
          none: null,
          blank: '',
        });
        await new Promise(resolve => setTimeout(resolve, 1));
        logger.info({eventKey: 'overridden'}, 'in the event');
      });
      logger.info('back in the request');
    });
    logger.info('outside');
    expect(currentLogContext()).to.eql({});
    const [request, event, back, outside] = records();
    expect(request.requestId).to.equal('r-1');
    expect(event).to.containDeep({
      requestId: 'r-1',
      eventId: 'e-1',
      eventKey: 'overridden',
    });
    for (const key of ['empty', 'none', 'blank']) {
      expect(event).to.not.have.property(key);
    }
    expect(back).to.not.have.property('eventId');
    expect(outside).to.not.have.property('requestId');
  });

  it('redacts secrets wherever they appear as fields, and scrubs them from messages', () => {
    const {logger, lines} = capturingLogger();
    logger.info(
      {
        authorization: 'Bearer abc.def.ghi',
        apiSecret: 'the-api-secret',
        client: {apiSecret: 'nested-secret', token: 'nested-token'},
        headers: {'x-api-secret': 'header-secret', cookie: 'c=1'},
        req: {headers: {authorization: 'Bearer in-request'}},
      },
      'calling https://user:hunter2@engine.example/engine-rest/x?access_token=tok123&other=1 with Bearer eyJhbGciOi.payload.sig',
    );
    logger.warn({err: new Error('GET /hooks?secret=shh failed')}, 'failed');
    const output = lines.join('\n');
    for (const secret of [
      'abc.def.ghi',
      'the-api-secret',
      'nested-secret',
      'nested-token',
      'header-secret',
      'c=1',
      'in-request',
      'hunter2',
      'tok123',
      'eyJhbGciOi',
      'shh',
    ]) {
      expect(output).to.not.containEql(secret);
    }
    expect(output).to.containEql('other=1');
    expect(output).to.containEql('engine.example/engine-rest/x');
  });

  it('writes a line of fields without secrets the same without redaction, at the level the logger is at now', async () => {
    const {logger: taskLogger, records} = capturingLogger('info');
    const logger = taskLogger as TaskLogger & {level: string};
    const plain = withoutRedaction(logger);
    expect(plain).to.not.equal(logger);
    expect(withoutRedaction(logger)).to.equal(plain);
    const fields = {
      method: 'GET',
      path: '/tasks',
      route: '/tasks',
      status: 200,
      durationMs: 1.5,
    };
    await withLogContext({requestId: 'r-1'}, async () => {
      logger.info({...fields}, 'request https://u:pw@x.example/?token=t');
      plain.info({...fields}, 'request https://u:pw@x.example/?token=t');
    });
    plain.debug('not at info');
    logger.level = 'debug';
    plain.debug('at debug now');
    logger.level = 'warn';
    plain.info('not at warn');
    const [redacted, unredacted, ...rest] = records();
    const same = {...unredacted, time: redacted.time};
    expect(same).to.eql(redacted);
    // Messages are still scrubbed.
    expect(unredacted.msg).to.equal(
      'request https://[redacted]@x.example/?token=[redacted]',
    );
    expect(rest.map(r => r.msg)).to.eql(['at debug now']);
  });

  it('leaves a logger it did not make as it is', () => {
    const host = {
      ...capturingLogger().logger,
      child: () => host,
    };
    expect(withoutRedaction(host)).to.equal(host);
  });

  it('logs errors by type, message, code and status; their stack only at debug', () => {
    const err = Object.assign(new Error('connection refused'), {
      code: 'ECONNREFUSED',
      statusCode: 503,
    });
    expect(errorFields(err)).to.eql({
      type: 'Error',
      message: 'connection refused',
      code: 'ECONNREFUSED',
      status: 503,
    });
    const info = capturingLogger('info');
    info.logger.error({err}, 'failed');
    expect(info.records()[0].err).to.not.have.property('stack');
    const debug = capturingLogger('debug');
    debug.logger.error({err}, 'failed');
    expect(String((debug.records()[0].err as {stack: string}).stack)).to.match(
      /connection refused\n\s+at /,
    );
  });

  it('writes readable lines in the pretty format', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    // The pretty stream is the one `format: 'pretty'` builds, to a test stream here.
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    const logger = createTaskLogger({
      destination: pretty({sync: true, colorize: false, destination}),
    });
    logger.info({taskId: 't-9'}, 'Task completed');
    const text = chunks.join('');
    expect(text).to.match(/INFO.*Task completed/);
    expect(text).to.match(/taskId: "t-9"/);
    expect(() => JSON.parse(text)).to.throw();
  });

  it('logs paths without the query, URLs without credentials or query', () => {
    expect(pathOf('/tasks?filter={"where":{}}&token=x')).to.equal('/tasks');
    expect(pathOf('/tasks#x')).to.equal('/tasks');
    expect(safeUrl('https://u:p@hooks.example:8443/in?sig=1#f')).to.equal(
      'https://hooks.example:8443/in',
    );
    expect(scrub('no secrets here')).to.equal('no secrets here');
  });

  it('accepts a metrics token only as the exact bearer token', () => {
    expect(bearerMatches('Bearer s3cret', 's3cret')).to.be.true();
    expect(bearerMatches('bearer s3cret', 's3cret')).to.be.true();
    expect(bearerMatches('Bearer s3cre', 's3cret')).to.be.false();
    expect(bearerMatches('s3cret', 's3cret')).to.be.false();
    expect(bearerMatches(undefined, 's3cret')).to.be.false();
  });

  it('no source file of the service writes to the console', () => {
    const src = path.resolve(__dirname, '../../../src');
    const offenders: string[] = [];
    const visit = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) {
          if (name !== '__tests__') visit(file);
        } else if (name.endsWith('.ts')) {
          if (/\bconsole\.\w+\(/.test(readFileSync(file, 'utf8'))) {
            offenders.push(path.relative(src, file));
          }
        }
      }
    };
    visit(src);
    expect(offenders).to.eql([]);
  });
});
