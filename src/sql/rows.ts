/** A row of a raw statement, as the connector hands it over. */
export type Row = Record<string, unknown>;

/** The rows of a statement, whatever shape the connector gives them in. */
export function rowsOf(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  const rows = (result as {rows?: Row[]} | null)?.rows;
  return rows ?? [];
}

/**
 * How many rows a statement changed, whatever shape the connector reports
 * it in: PostgreSQL's rows or `count`, MySQL's `affectedRows`.
 */
export function affectedCount(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const reported = result as {count?: number; affectedRows?: number} | null;
  return reported?.count ?? reported?.affectedRows ?? 0;
}

/**
 * A JSON column's value as an object: PostgreSQL's driver parses `json`,
 * MySQL's LONGTEXT holds the text.
 */
export function parsedJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
