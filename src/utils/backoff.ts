/**
 * The wait before retrying after the `attempt`-th failure (1 for the first):
 * `initialMs` doubled for each failure after the first, at most `maxMs`.
 */
export function exponentialBackoff(
  attempt: number,
  initialMs: number,
  maxMs = Number.POSITIVE_INFINITY,
): number {
  return Math.min(initialMs * 2 ** Math.max(attempt - 1, 0), maxMs);
}
