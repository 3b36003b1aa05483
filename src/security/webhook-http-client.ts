import dns from 'dns';
import http, {IncomingMessage} from 'http';
import https from 'https';
import {LRUCache} from 'lru-cache';
import {
  RequestFilteringHttpAgent,
  RequestFilteringHttpsAgent,
} from 'request-filtering-agent';
import {
  classifyAddress,
  guardedLookup,
  isAllowedClass,
  WebhookUrlError,
} from './url-guard';

export interface WebhookHttpClientOptions {
  /** Whether private and loopback addresses may be reached (never link-local or metadata). */
  allowPrivateUrls: boolean;
  /** The whole request, connect to last byte, must finish in this time (ms). */
  timeoutMs: number;
  /** Sockets kept per receiver host; default 8. */
  maxSockets?: number;
  /** Name resolution; the default is the system's (`dns.lookup`). */
  resolve?: typeof dns.lookup;
}

export interface WebhookHttpResponse {
  statusCode: number;
  /** The start of the answer's body (for the attempt log), up to 500 characters. */
  text: string;
}

/** Receiver URLs whose parse and checks are kept, the most recently used. */
const MAX_TARGETS = 1000;

/** A receiver URL, parsed and checked: where to send, or why not. */
type Target = {url: URL; secure: boolean} | WebhookUrlError;

/** How much of an answer is read; a longer body is cut off and its socket dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_TEXT = 500;

/**
 * POSTs webhooks over Node's http/https with keep-alive agents from
 * `request-filtering-agent`, which refuse non-public addresses when the
 * socket connects (unless `allowPrivateUrls`). A lookup hook adds the
 * addresses that are refused in every mode (link-local, cloud metadata,
 * IPv4 hidden in IPv6 forms) and an IP-literal host is checked before the
 * request. Redirects are never followed: a 3xx is the receiver's answer.
 */
export class WebhookHttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly lookup: ReturnType<typeof guardedLookup>;
  /** Parsed and checked URLs, the least recently used dropped first. */
  private readonly targets = new LRUCache<string, Target>({max: MAX_TARGETS});

  constructor(private readonly options: WebhookHttpClientOptions) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 8,
      allowPrivateIPAddress: options.allowPrivateUrls,
      allowMetaIPAddress: false,
    };
    this.httpAgent = new RequestFilteringHttpAgent(agentOptions);
    this.httpsAgent = new RequestFilteringHttpsAgent(agentOptions);
    this.lookup = guardedLookup(options.allowPrivateUrls, options.resolve);
  }

  /** POSTs `body` with `headers` (content-length is added) and reads the answer. */
  post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<WebhookHttpResponse> {
    let target: Target;
    try {
      target = this.targetOf(url);
    } catch (err) {
      return Promise.reject(err);
    }
    if (target instanceof WebhookUrlError) return Promise.reject(target);
    const {url: address, secure} = target;
    const send = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      // One timer for the whole request, cleared when it ends.
      const timer = setTimeout(() => {
        const timeout = new Error(
          `timed out after ${this.options.timeoutMs} ms`,
        );
        timeout.name = 'TimeoutError';
        request.destroy(timeout);
      }, this.options.timeoutMs);
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          done(value);
        };
      const request = send(
        address,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: {...headers, 'content-length': Buffer.byteLength(body)},
          lookup: this.lookup,
        },
        response => {
          readAnswer(response).then(settle(resolve), settle(reject));
        },
      );
      request.on('error', settle(reject));
      request.end(body);
    });
  }

  /**
   * The URL parsed and checked once (its IP-literal host and scheme), kept
   * for the next deliveries to it. A malformed URL throws, as `new URL`.
   */
  private targetOf(url: string): Target {
    const known = this.targets.get(url);
    if (known) return known;
    const parsed = new URL(url);
    let target: Target;
    const literal = classifyAddress(parsed.hostname);
    if (literal && !isAllowedClass(literal, this.options.allowPrivateUrls)) {
      target = new WebhookUrlError(
        `${parsed.hostname} is a ${literal.reason} address; webhooks are not sent there`,
      );
    } else if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      target = new WebhookUrlError(`unsupported scheme ${parsed.protocol}`);
    } else {
      target = {url: parsed, secure: parsed.protocol === 'https:'};
    }
    this.targets.set(url, target);
    return target;
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function readAnswer(response: IncomingMessage): Promise<WebhookHttpResponse> {
  const statusCode = response.statusCode ?? 0;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () =>
      resolve({
        statusCode,
        text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_TEXT),
      });
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        // Enough to log; do not read (or keep the socket for) the rest.
        response.destroy();
        done();
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', done);
    response.on('error', reject);
  });
}
