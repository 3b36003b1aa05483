import {lookup} from 'dns/promises';
import {BlockList, isIP} from 'net';
import {TaskServiceError} from '../../../errors';

/** Loopback, private, link-local, shared, multicast and reserved ranges. */
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** Thrown when a URL is malformed or not allowed; the message says why. */
export class WebhookUrlError extends TaskServiceError {
  constructor(reason: string) {
    super('rejected', reason);
  }
}

/** True when `address` (an IP literal) is not a public internet address. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const lower = address.toLowerCase();
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is its IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return NON_PUBLIC.check(mapped[1], 'ipv4');
  return NON_PUBLIC.check(lower, 'ipv6');
}

/**
 * Throws `WebhookUrlError` unless `hostname` and every address it resolves
 * to are public. IP literals are checked as they are, `localhost` and
 * `*.localhost` are refused, other names are resolved.
 */
export async function assertPublicHost(hostname: string): Promise<void> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) {
    throw new WebhookUrlError(`URL host ${hostname} is a loopback address`);
  }
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, {all: true})).map(a => a.address);
    } catch (err) {
      throw new WebhookUrlError(
        `URL host ${hostname} does not resolve: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const blocked = addresses.find(isNonPublicAddress);
  if (blocked) {
    throw new WebhookUrlError(
      `URL host ${hostname} resolves to the non-public address ${blocked}`,
    );
  }
}

/**
 * A subscription URL as stored: well-formed, http or https, no credentials
 * in it, and, when `allowPrivateUrls` is false, a public host.
 */
export async function validateWebhookUrl(
  raw: string,
  allowPrivateUrls: boolean,
): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError(`"${raw}" is not a well-formed URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlError(
      `URL scheme must be http or https, not ${url.protocol.replace(/:$/, '')}`,
    );
  }
  if (!url.hostname) throw new WebhookUrlError('URL has no host');
  if (url.username || url.password) {
    throw new WebhookUrlError('URL must not contain credentials');
  }
  if (!allowPrivateUrls) await assertPublicHost(url.hostname);
  return raw;
}
