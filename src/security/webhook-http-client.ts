import dns from 'dns';
import http, {IncomingMessage} from 'http';
import https from 'https';
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
    const target = new URL(url);
    const literal = classifyAddress(target.hostname);
    if (literal && !isAllowedClass(literal, this.options.allowPrivateUrls)) {
      return Promise.reject(
        new WebhookUrlError(
          `${target.hostname} is a ${literal.reason} address; webhooks are not sent there`,
        ),
      );
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      return Promise.reject(
        new WebhookUrlError(`unsupported scheme ${target.protocol}`),
      );
    }
    const send = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send(
        target,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: {...headers, 'content-length': Buffer.byteLength(body)},
          lookup: this.lookup,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        },
        response => {
          readAnswer(response).then(resolve, reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
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
