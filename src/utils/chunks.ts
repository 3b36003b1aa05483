/** `items` in order, in slices of at most `size`. */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    chunks.push(items.slice(i, i + size));
  }
  return chunks;
}

/**
 * Offers `candidates` to `take` in order, at each call only as many as are
 * still wanted (`wanted` less what earlier calls took), until `wanted` are
 * taken or none are left. `take` says how many of its slice it took; a
 * locking read, say, that skips rows another transaction holds: it never
 * holds more than are wanted, and what it skips is made up from the next.
 */
export async function takeInOrder<T>(
  candidates: readonly T[],
  wanted: number,
  take: (slice: T[]) => Promise<number>,
): Promise<void> {
  let taken = 0;
  for (let next = 0; taken < wanted && next < candidates.length;) {
    const slice = candidates.slice(next, next + wanted - taken);
    next += slice.length;
    taken += await take(slice);
  }
}
