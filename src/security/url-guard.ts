import dns, {LookupAddress, LookupAllOptions, LookupOneOptions} from 'dns';
import ipaddr from 'ipaddr.js';
import {isIP} from 'net';
import {TaskServiceError} from '../errors';

/** Thrown when a URL is malformed or not allowed; the message says why. */
export class WebhookUrlError extends TaskServiceError {
  constructor(reason: string) {
    super('rejected', reason);
  }
}

/**
 * Where an address leads: the public internet; a private network or this
 * host (allowed only with `allowPrivateUrls`); or somewhere a webhook is
 * never sent (link-local, cloud metadata, unspecified, multicast, reserved).
 */
export type AddressClass = 'public' | 'private' | 'forbidden';

export interface AddressVerdict {
  class: AddressClass;
  /** Why, in words: "loopback", "link-local", "cloud metadata", ... */
  reason: string;
}

/** Cloud instance-metadata endpoints: never a webhook target. */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (classic)
  'fd00:ec2::254', // AWS over IPv6
]);

/** Names that reach metadata services or this host without DNS. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

const IPV4_CLASSES: Record<string, AddressVerdict> = {
  unicast: {class: 'public', reason: 'public'},
  private: {class: 'private', reason: 'private network'},
  loopback: {class: 'private', reason: 'loopback'},
  carrierGradeNat: {class: 'private', reason: 'shared address space'},
  reserved: {class: 'private', reason: 'reserved range'},
  linkLocal: {class: 'forbidden', reason: 'link-local'},
  unspecified: {class: 'forbidden', reason: 'unspecified address'},
  broadcast: {class: 'forbidden', reason: 'broadcast'},
  multicast: {class: 'forbidden', reason: 'multicast'},
};

const IPV6_CLASSES: Record<string, AddressVerdict> = {
  unicast: {class: 'public', reason: 'public'},
  loopback: {class: 'private', reason: 'loopback'},
  uniqueLocal: {class: 'private', reason: 'private network'},
  deprecatedSiteLocal: {class: 'private', reason: 'site-local'},
  linkLocal: {class: 'forbidden', reason: 'link-local'},
  unspecified: {class: 'forbidden', reason: 'unspecified address'},
  multicast: {class: 'forbidden', reason: 'multicast'},
};

/** IPv6 ranges that carry an IPv4 address in their last 32 bits. */
const IPV4_CARRYING = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052', '6to4']);

/**
 * Classifies an IP address however it is written (IPv4 dotted, decimal,
 * hex or octal; IPv6 with an embedded IPv4 address: mapped, compatible,
 * NAT64, 6to4). A name that is not an IP address is `undefined`.
 */
export function classifyAddress(address: string): AddressVerdict | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    if (!ipaddr.isValid(bare)) return undefined;
    parsed = ipaddr.parse(bare);
  } catch {
    return undefined;
  }
  if (METADATA_ADDRESSES.has(parsed.toString())) {
    return {class: 'forbidden', reason: 'cloud metadata'};
  }
  if (parsed.kind() === 'ipv4') return ipv4Verdict(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  const parts = v6.parts;
  const compatible =
    range === 'unicast' && parts.slice(0, 6).every(part => part === 0);
  if (IPV4_CARRYING.has(range) || compatible) {
    const embedded =
      range === '6to4'
        ? ipaddr.fromByteArray([
            parts[1] >> 8,
            parts[1] & 255,
            parts[2] >> 8,
            parts[2] & 255,
          ])
        : ipaddr.fromByteArray(v6.toByteArray().slice(12));
    const inner = classifyAddress(embedded.toString())!;
    // A public IPv4 reached through a translation range is not plainly public.
    return inner.class === 'public'
      ? {class: 'private', reason: `IPv4 translation (${range})`}
      : inner;
  }
  return IPV6_CLASSES[range] ?? {class: 'forbidden', reason: `${range} range`};
}

function ipv4Verdict(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();
  return IPV4_CLASSES[range] ?? {class: 'private', reason: `${range} range`};
}

/** True when `address` (an IP literal) is not a public internet address. */
export function isNonPublicAddress(address: string): boolean {
  const verdict = classifyAddress(address);
  return verdict !== undefined && verdict.class !== 'public';
}

/** Whether a webhook may be sent to an address of this class. */
export function isAllowedClass(
  verdict: AddressVerdict,
  allowPrivateUrls: boolean,
): boolean {
  return (
    verdict.class === 'public' ||
    (verdict.class === 'private' && allowPrivateUrls)
  );
}

/**
 * Throws `WebhookUrlError` unless a webhook may go to `hostname` (as the
 * WHATWG URL parser normalised it): an IP literal is classified as it is;
 * `localhost` names count as loopback; metadata names are refused; other
 * names are resolved and every address must be allowed. When a name does
 * not resolve it is refused only without `allowPrivateUrls` (the address is
 * checked again when a delivery connects).
 */
export async function assertAllowedHost(
  hostname: string,
  allowPrivateUrls: boolean,
  lookup: typeof dns.promises.lookup = dns.promises.lookup,
): Promise<void> {
  const host = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');
  if (METADATA_NAMES.has(host)) {
    throw new WebhookUrlError(
      `URL host ${hostname} is a cloud metadata service`,
    );
  }
  const literal = classifyAddress(host);
  if (literal) {
    refuseUnlessAllowed(hostname, host, literal, allowPrivateUrls);
    return;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    refuseUnlessAllowed(
      hostname,
      host,
      {class: 'private', reason: 'loopback'},
      allowPrivateUrls,
    );
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await lookup(host, {all: true, verbatim: true});
  } catch (err) {
    if (allowPrivateUrls) return;
    throw new WebhookUrlError(
      `URL host ${hostname} does not resolve: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  for (const {address} of addresses) {
    const verdict = classifyAddress(address);
    if (verdict)
      refuseUnlessAllowed(hostname, address, verdict, allowPrivateUrls);
  }
}

function refuseUnlessAllowed(
  hostname: string,
  address: string,
  verdict: AddressVerdict,
  allowPrivateUrls: boolean,
): void {
  if (isAllowedClass(verdict, allowPrivateUrls)) return;
  const resolved = address === hostname ? '' : ` resolves to ${address}, which`;
  const hint =
    verdict.class === 'private'
      ? ' (allowed only with allowPrivateUrls)'
      : ' (never allowed)';
  throw new WebhookUrlError(
    `URL host ${hostname}${resolved} is a ${verdict.reason} address${hint}`,
  );
}

/** Kept for the earlier export: the public-only check. */
export function assertPublicHost(hostname: string): Promise<void> {
  return assertAllowedHost(hostname, false);
}

/**
 * A subscription URL as stored: well-formed, http or https, no credentials
 * in it, and a host webhooks may go to (see `assertAllowedHost`). Numeric
 * host forms (decimal, hex, octal, short) are normalised by the URL parser
 * before the check, so `http://2130706433/` is seen as 127.0.0.1.
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
  await assertAllowedHost(url.hostname, allowPrivateUrls);
  return raw;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup` for outgoing webhook sockets: the addresses a name
 * resolves to are checked at connect time, so an answer that changed since
 * the subscription was checked (DNS rebinding) cannot reach a forbidden or,
 * without `allowPrivateUrls`, a private address.
 */
export function guardedLookup(
  allowPrivateUrls: boolean,
  resolve: typeof dns.lookup = dns.lookup,
) {
  return function lookup(
    hostname: string,
    options: LookupOneOptions | LookupAllOptions,
    callback: LookupCallback,
  ): void {
    const check = (address: string): Error | undefined => {
      const verdict = classifyAddress(address);
      if (!verdict || isAllowedClass(verdict, allowPrivateUrls)) return;
      const err: NodeJS.ErrnoException = new WebhookUrlError(
        `${hostname} resolves to ${address}, a ${verdict.reason} address; webhooks are not sent there`,
      );
      err.code = 'EADDRNOTALLOWED';
      return err;
    };
    resolve(hostname, {...options, all: true}, (err, addresses) => {
      if (err) return callback(err, []);
      for (const {address} of addresses) {
        const refused = check(address);
        if (refused) return callback(refused, []);
      }
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      const [first] = addresses;
      callback(null, first.address, first.family);
    });
  };
}

/** True when `host` is an IP literal (no DNS is involved in reaching it). */
export function isIpLiteral(host: string): boolean {
  return isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}
