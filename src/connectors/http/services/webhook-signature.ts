import {createHmac, timingSafeEqual} from 'crypto';

/**
 * The `x-task-signature` of a webhook: hex HMAC-SHA256, keyed with the
 * subscribing client's api secret, of `<body>:<x-task-timestamp>` where
 * `body` is the exact request body (the event JSON).
 */
export function signWebhook(
  secret: string,
  body: string,
  timestamp: string | number,
): string {
  return createHmac('sha256', secret)
    .update(`${body}:${timestamp}`)
    .digest('hex');
}

/** Checks a signature the way a receiver does, in constant time. */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  timestamp: string,
  signature: string,
): boolean {
  const expected = Buffer.from(signWebhook(secret, body, timestamp), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
