import {expect} from '@loopback/testlab';
import {createServer} from 'http';
import {AddressInfo} from 'net';
import {compileLinear, UnsafePatternError} from '../../security';
import {WorkflowInputValidator} from '../../services';

// Backtracking engines take time exponential in the length of such an
// input for these patterns: at 64 characters, longer than this suite runs.
const EVIL = [
  {pattern: '^(a+)+$', input: 'a'.repeat(64) + '!'},
  {pattern: '^(a|a)*$', input: 'a'.repeat(64) + '!'},
  {pattern: '^(\\w+\\s?)*$', input: 'word '.repeat(20) + '!'},
  {
    pattern:
      '^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$',
    input: 'a'.repeat(64) + '!',
  },
];

describe('ReDoS guard: user patterns run in linear time (unit)', () => {
  it('matches like a JavaScript RegExp on ordinary input', () => {
    const email = compileLinear('^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$');
    expect(email.test('ops@example.com')).to.be.true();
    expect(email.test('not an email')).to.be.false();
    expect(
      compileLinear('^(?<year>\\d{4})-\\d{2}$').test('2024-01'),
    ).to.be.true();
    expect(compileLinear('\\u00e9').test('café')).to.be.true();
  });

  for (const {pattern, input} of EVIL) {
    it(`answers ${pattern} on a 65-character attack string`, () => {
      expect(compileLinear(pattern).test(input)).to.be.false();
    });
  }

  it('refuses what cannot run in linear time, saying why', () => {
    for (const pattern of ['(a)\\1', '(?=a)b', '(?!a)b', '(?<=a)b', '[']) {
      expect(() => compileLinear(pattern)).to.throw(UnsafePatternError);
    }
    expect(() => compileLinear('(?=a)b')).to.throw(/linear-time engine/);
  });

  describe('workflow input schemas', () => {
    const validator = new WorkflowInputValidator();
    const schema = {
      type: 'object',
      properties: {
        code: {type: 'string', pattern: '^(a+)+$'},
        tags: {
          type: 'object',
          patternProperties: {'^(x+x+)+y$': {type: 'string'}},
        },
      },
    };

    it('a backtracking pattern validates a long attack input at once', () => {
      validator.assertSchema(schema);
      expect(() =>
        validator.assertValid({code: 'a'.repeat(100000) + '!'}, schema),
      ).to.throw(/must match pattern/);
      validator.assertValid({code: 'aaaa'}, schema);
      validator.assertValid({tags: {['x'.repeat(5000)]: 'ok'}}, schema);
    });

    it('a schema whose pattern cannot run in linear time is refused (400)', () => {
      expect(() =>
        validator.assertSchema({type: 'string', pattern: '^(a)\\1$'}),
      ).to.throw(/inputSchema is not a valid JSON Schema: .*not supported/);
    });

    it('a concurrent request is answered while attack inputs are validated', async () => {
      // An HTTP server on this event loop answers between validations: no
      // validation holds the loop (a backtracking one would for hours).
      const server = createServer((_req, res) => res.end('pong'));
      await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
      const {port} = server.address() as AddressInfo;
      try {
        const attacks = (async () => {
          for (let i = 0; i < 20; i++) {
            expect(() =>
              validator.assertValid({code: 'a'.repeat(20000) + '!'}, schema),
            ).to.throw(/must match pattern/);
            await new Promise(r => setImmediate(r));
          }
        })();
        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect(await res.text()).to.equal('pong');
        await attacks;
      } finally {
        server.closeAllConnections();
        await new Promise(r => server.close(r));
      }
    });
  });
});
