/** A row of a raw statement, as the connector hands it over. */
export type Row = Record<string, unknown>;

/** The rows of a statement, whatever shape the connector gives them in. */
export function rowsOf(result: unknown): Row[] {
  if (Array.isArray(result)) return result as Row[];
  const rows = (result as {rows?: Row[]} | null)?.rows;
  return rows ?? [];
}

/** How many rows a statement changed, whatever shape the connector reports it in. */
export function affectedCount(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  return (result as {count?: number} | null)?.count ?? 0;
}
