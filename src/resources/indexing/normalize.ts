/**
 * The form string search compares (https://hl7.org/fhir/R4/search.html#string: "case- and
 * accent-insensitive"): NFD, combining marks removed, lower case. Done in JS rather than with the
 * PostgreSQL `unaccent` extension, which PGlite lacks; the query side normalises with this same
 * function, so both sides always agree.
 */
export function normalizeText(value: string): string {
  // Plain ASCII (most values) needs no decomposition: skip NFD's allocation.
  const decomposed = /^[\x00-\x7f]*$/.test(value) ? value : value.normalize('NFD').replace(/\p{M}+/gu, '')
  return decomposed.toLowerCase()
}

/** Indexed text is cut to this many characters: a B-tree entry must stay well under 2.7 kB. */
export const MAX_INDEXED_TEXT = 512

export function clip(value: string): string {
  return value.length > MAX_INDEXED_TEXT ? value.slice(0, MAX_INDEXED_TEXT) : value
}
