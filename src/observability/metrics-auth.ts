import {createHash, timingSafeEqual} from 'crypto';

/** Whether an `Authorization` header carries `Bearer <token>`, compared in constant time. */
export function bearerMatches(
  header: string | undefined,
  token: string,
): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  // Equal-length digests, so the comparison leaks nothing about the length.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1].trim()), digest(token));
}
