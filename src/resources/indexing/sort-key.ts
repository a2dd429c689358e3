/**
 * Order-preserving text encodings for the search_sort table: one text column sorts dates and
 * strings alike under COLLATE "C", so `ORDER BY lo, id LIMIT n` walks one index whatever the
 * parameter type (numbers and quantities sort on their own rows: search/compile.ts).
 */

/** Instants as fixed-width ISO 8601 UTC; open ends sort before / after every date. */
export function dateSortKey(ms: number): string {
  if (ms === -Infinity) return '!'
  if (ms === Infinity) return '~'
  return new Date(ms).toISOString()
}
