import {
  BodyParser,
  isReferenceObject,
  JsonBodyParser,
  OperationObject,
  Request,
  RequestBody,
  RequestBodyParser,
  RequestBodyParserOptions,
  sanitizeJsonParse,
} from '@loopback/rest';
import {isUtf8} from 'buffer';
import bytes from 'bytes';
import {Readable} from 'stream';

/** What the lean path asks of a body parser: LoopBack's own method. */
export type OperationBodyLoader = Pick<
  RequestBodyParser,
  'loadRequestBodyIfNeeded'
>;

/** body-parser's default `limit`, as LoopBack sets it. */
const DEFAULT_LIMIT = '1mb';

/** The only body parser options this reader reproduces. */
const KNOWN_OPTIONS = new Set(['validation', 'limit']);

/** The content types read here; any other goes to LoopBack's parser. */
const PLAIN_JSON = /^application\/json(\s*;\s*charset\s*=\s*"?utf-8"?)?$/i;

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * LoopBack's request body parser, with one case read directly: a JSON body
 * of an operation whose first request content is `application/json`, sent
 * as `application/json` (UTF-8) with a `Content-Length` within the limit
 * and no content encoding. That body is read from the socket and parsed
 * with LoopBack's own reviver (the same prohibited keys); the result is
 * the one LoopBack's parser gives (value, media type, schema), without
 * the per-request machinery of the `body-parser` middleware (type checks,
 * a decoder stream, listeners and a promise per request: 7 % of a
 * trigger's CPU).
 *
 * A body it cannot take as it is (a byte-order mark, bytes that are not
 * UTF-8, JSON that does not parse or holds a prohibited key) is handed to
 * LoopBack's parser as read, so its answer (status, message, code) is
 * LoopBack's own; every other request goes to LoopBack's parser untouched.
 * Only used when the JSON parser is LoopBack's and its options are at most
 * `limit` and `validation`.
 */
export class LeanJsonBodyParser implements OperationBodyLoader {
  private readonly schemas = new WeakMap<OperationObject, object | null>();

  private constructor(
    private readonly inner: RequestBodyParser,
    private readonly reviver: (key: string, value: unknown) => unknown,
    private readonly limit: number,
  ) {}

  /**
   * The lean reader over `inner`, or `inner` itself when its JSON parser or
   * options are not LoopBack's defaults as this reader reproduces them.
   */
  static over(
    inner: RequestBodyParser,
    options: RequestBodyParserOptions = {},
  ): OperationBodyLoader {
    // The parser LoopBack picks for the type: the first that supports it.
    const json = (inner as unknown as {parsers?: BodyParser[]}).parsers?.find(
      parser => parser.supports('application/json'),
    );
    // Read as body-parser reads it (`bytes`); null when it cannot.
    const limit = bytes.parse(options.limit ?? DEFAULT_LIMIT);
    if (
      !(json instanceof JsonBodyParser) ||
      Object.keys(options).some(key => !KNOWN_OPTIONS.has(key)) ||
      limit === null
    ) {
      return inner;
    }
    const reviver = sanitizeJsonParse(undefined, [
      '__proto__',
      'constructor.prototype',
      ...(options.validation?.prohibitedKeys ?? []),
    ]);
    return new LeanJsonBodyParser(inner, reviver, limit);
  }

  async loadRequestBodyIfNeeded(
    operation: OperationObject,
    request: Request,
  ): Promise<RequestBody> {
    const schema = this.schemaOf(operation);
    if (schema === null || !this.readsHere(request)) {
      return this.inner.loadRequestBodyIfNeeded(operation, request);
    }
    const raw = await readBody(request);
    const value = this.parse(raw);
    if (value === UNPARSED) {
      return this.inner.loadRequestBodyIfNeeded(
        operation,
        replayOf(request, raw),
      );
    }
    return {
      value,
      mediaType: request.headers['content-type'],
      schema: schema as RequestBody['schema'],
    };
  }

  /**
   * The schema LoopBack matches for an `application/json` request: that of
   * the first content, when it is `application/json` with no parser of its
   * own; null when this reader leaves the operation to LoopBack.
   */
  private schemaOf(operation: OperationObject): object | null {
    let schema = this.schemas.get(operation);
    if (schema !== undefined) return schema;
    schema = null;
    const body = operation.requestBody;
    if (body && !isReferenceObject(body)) {
      const [first] = Object.entries(body.content ?? {});
      if (first?.[0] === 'application/json' && !first[1]['x-parser']) {
        schema = (first[1].schema ?? {}) as object;
      }
    }
    this.schemas.set(operation, schema);
    return schema;
  }

  private readsHere(request: Request): boolean {
    const {headers} = request;
    const length = Number(headers['content-length']);
    return (
      PLAIN_JSON.test(headers['content-type'] ?? '') &&
      headers['transfer-encoding'] === undefined &&
      (headers['content-encoding'] ?? 'identity').toLowerCase() ===
        'identity' &&
      Number.isInteger(length) &&
      length > 0 &&
      length <= this.limit &&
      !(request as {_body?: boolean})._body &&
      request.readable
    );
  }

  /** The JSON value, or UNPARSED for a body LoopBack's parser is to answer. */
  private parse(raw: Buffer): unknown {
    if (UTF8_BOM.every((byte, i) => raw[i] === byte) || !isUtf8(raw)) {
      return UNPARSED;
    }
    try {
      return JSON.parse(raw.toString('utf8'), this.reviver);
    } catch {
      return UNPARSED;
    }
  }
}

const UNPARSED = Symbol('unparsed');

function readBody(request: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
    // Closed before its end: the client went away (nothing more settles it).
    request.once('close', () => reject(new Error('request aborted')));
  });
}

/**
 * The request as LoopBack's parser reads it, its body already read: a
 * stream of those bytes with the request's headers and header lookup.
 */
function replayOf(request: Request, raw: Buffer): Request {
  return Object.assign(Readable.from([raw]), {
    headers: request.headers,
    method: request.method,
    url: request.url,
    get: request.get.bind(request),
  }) as unknown as Request;
}
