import {
  ExpressRequestHandler,
  MiddlewareContext,
  Request,
  Response,
} from '@loopback/rest';
import {expect} from '@loopback/testlab';
import {EventEmitter} from 'events';
import helmet, {HelmetOptions} from 'helmet';
import {IncomingMessage, ServerResponse} from 'http';
import {Socket} from 'net';
import {
  refuseInheritedPathSegments,
  securityHeaders,
  synchronousFirst,
} from '../../security/http-hardening';

/** A response that is done when `end` is called, as `close` says. */
function fakeResponse() {
  const response = new EventEmitter() as EventEmitter & {
    writableFinished: boolean;
    end(): void;
  };
  response.writableFinished = false;
  response.end = () => {
    response.writableFinished = true;
    response.emit('close');
  };
  return response;
}

function middlewareContext(path = '/tasks') {
  const request = {path} as unknown as Request;
  const response = fakeResponse() as unknown as Response;
  return {request, response} as unknown as MiddlewareContext;
}

describe('HTTP hardening (unit)', () => {
  describe('synchronousFirst', () => {
    it('goes on at once when the handler calls next before it returns', async () => {
      const handler: ExpressRequestHandler = (_req, res, next) => {
        res.setHeader?.('x', '1');
        next();
      };
      const steps: string[] = [];
      const result = await synchronousFirst(handler)(
        middlewareContext(),
        () => {
          steps.push('next');
          return 'downstream';
        },
      );
      expect(steps).to.eql(['next']);
      expect(result).to.equal('downstream');
    });

    it('fails with the error the handler passes to next, without going on', async () => {
      const error = new Error('refused');
      const handler: ExpressRequestHandler = (_req, _res, next) => next(error);
      let called = false;
      await expect(
        Promise.resolve(
          synchronousFirst(handler)(middlewareContext(), () => {
            called = true;
            return undefined;
          }),
        ),
      ).to.be.rejectedWith(error);
      expect(called).to.be.false();
    });

    it('fails with what the handler throws', async () => {
      const handler: ExpressRequestHandler = () => {
        throw new Error('thrown');
      };
      await expect(
        Promise.resolve(
          synchronousFirst(handler)(middlewareContext(), () => undefined),
        ),
      ).to.be.rejectedWith(/thrown/);
    });

    it('waits for a handler that calls next later', async () => {
      const handler: ExpressRequestHandler = (_req, _res, next) => {
        setImmediate(() => next());
      };
      const steps: string[] = [];
      const done = synchronousFirst(handler)(middlewareContext(), () => {
        steps.push('next');
        return 'downstream';
      });
      expect(steps).to.eql([]);
      expect(await done).to.equal('downstream');
      expect(steps).to.eql(['next']);
    });

    it('waits for a handler that fails later', async () => {
      const handler: ExpressRequestHandler = (_req, _res, next) => {
        setImmediate(() => next(new Error('later')));
      };
      await expect(
        Promise.resolve(
          synchronousFirst(handler)(middlewareContext(), () => undefined),
        ),
      ).to.be.rejectedWith(/later/);
    });

    it('stops the chain, answering with the response, when the handler answers', async () => {
      for (const later of [false, true]) {
        const handler: ExpressRequestHandler = (_req, res) => {
          if (later) setImmediate(() => res.end());
          else res.end();
        };
        const context = middlewareContext();
        let called = false;
        const result = await synchronousFirst(handler)(context, () => {
          called = true;
          return undefined;
        });
        expect(called).to.be.false();
        expect(result).to.equal(context.response);
      }
    });
  });

  describe('refuseInheritedPathSegments', () => {
    function check(path: string): unknown {
      let outcome: unknown = 'not called';
      refuseInheritedPathSegments(
        {path} as Request,
        {} as Response,
        (err?: unknown) => {
          outcome = err;
        },
      );
      return outcome;
    }

    it('lets ordinary paths through, encoded or not', () => {
      expect(check('/tasks/abc')).to.be.undefined();
      // Again: the path is known by now.
      expect(check('/tasks/abc')).to.be.undefined();
      expect(check('/tasks/a%20b')).to.be.undefined();
      // Not percent-encoding: checked as it is.
      expect(check('/tasks/%E0%A4%A')).to.be.undefined();
    });

    it('refuses inherited names, plain or percent-encoded', () => {
      for (const path of [
        '/tasks/__proto__',
        '/tasks/constructor',
        '/tasks/%5F%5Fproto%5F%5F',
        '/tasks/con%73tructor',
      ]) {
        // Refused each time it comes.
        for (const time of [1, 2]) {
          expect({path, time, outcome: check(path)}).to.containDeep({
            path,
            time,
            outcome: {statusCode: 400, code: 'INVALID_PATH'},
          });
        }
      }
    });
  });

  describe('securityHeaders', () => {
    /** The headers `handler` leaves on a real response that had X-Powered-By, in order. */
    function headersOf(handler: ExpressRequestHandler) {
      const request = new IncomingMessage(new Socket());
      const response = new ServerResponse(request);
      response.setHeader('X-Powered-By', 'Express');
      let passed = false;
      handler(request as Request, response as Response, err => {
        passed = !err;
      });
      expect(passed).to.be.true();
      return response
        .getHeaderNames()
        .map(name => [name, response.getHeader(name)]);
    }

    const cases: HelmetOptions[] = [
      {},
      {contentSecurityPolicy: false, strictTransportSecurity: {maxAge: 60}},
      {
        contentSecurityPolicy: {
          directives: {defaultSrc: ["'self'"], upgradeInsecureRequests: null},
        },
        xFrameOptions: {action: 'deny'},
        referrerPolicy: {policy: ['origin', 'no-referrer']},
      },
    ];
    for (const options of cases) {
      it(`sets and removes what helmet does, in its order: ${JSON.stringify(options)}`, () => {
        const theirs = headersOf(helmet(options));
        expect(theirs.length).to.be.above(5);
        expect(theirs.map(([name]) => name)).to.not.containEql('x-powered-by');
        const handler = securityHeaders(options);
        expect(headersOf(handler)).to.eql(theirs);
        // Again: the same each time.
        expect(headersOf(handler)).to.eql(theirs);
      });
    }

    it('asks helmet on every request when an option is a function (a nonce)', () => {
      let nonces = 0;
      const handler = securityHeaders({
        contentSecurityPolicy: {
          directives: {scriptSrc: ["'self'", () => `'nonce-${++nonces}'`]},
        },
      });
      const csp = (headers: unknown[][]) =>
        String(
          headers.find(([name]) => name === 'content-security-policy')![1],
        );
      expect(csp(headersOf(handler))).to.containEql("'nonce-1'");
      expect(csp(headersOf(handler))).to.containEql("'nonce-2'");
    });
  });
});
