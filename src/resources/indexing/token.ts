import type { TypedValue } from '@medplum/core'
import { clip, normalizeText } from './normalize.js'
import type { IndexRows } from './rows.js'

type Coding = { system?: string; code?: string; display?: string }

/**
 * token parameters (https://hl7.org/fhir/R4/search.html#token): Coding, CodeableConcept (one row per
 * coding, plus a code-less row for its text unless a coding already has that display, so `:text`
 * finds it), Identifier (with its type codings
 * for `:of-type`), ContactPoint (system = phone/email/..., code = value), boolean, and plain
 * code/string/uri/id values (no system).
 *
 * No search_sort row: `_sort` on a token reads its key from these rows at query time (compile.ts),
 * which saves a write and three index updates per parameter on every create. `_options` stays
 * because extract.ts passes `{ sortable }` to every indexer.
 */
export function indexTokenValue(rows: IndexRows, param: string, ord: number, typed: TypedValue, _options?: { sortable: boolean }) {
  const { type, value } = typed
  if (typeof value === 'boolean') return addToken(rows, param, ord, null, String(value), null)
  if (typeof value === 'string') return addToken(rows, param, ord, null, value, null)
  if (typeof value === 'number') return addToken(rows, param, ord, null, String(value), null)
  if (typeof value !== 'object' || value === null) return
  const v = value as Record<string, unknown>
  if (type === 'Identifier') {
    const typeConcept = v.type as { coding?: unknown; text?: string } | undefined
    const typeCodings = codingsOf(typeConcept?.coding).filter((c) => c.code)
    if (!typeCodings.length) return addToken(rows, param, ord, v.system, v.value, typeConcept?.text)
    for (const c of typeCodings) addToken(rows, param, ord, v.system, v.value, typeConcept?.text, c.system ?? null, c.code ?? null)
    return
  }
  if (type === 'ContactPoint') return addToken(rows, param, ord, v.system, v.value, null)
  if (type === 'CodeableConcept' || Array.isArray(v.coding)) {
    const codings = codingsOf(v.coding)
    for (const c of codings) addToken(rows, param, ord, c.system, c.code, c.display)
    // `:text` matches the display of any row: a text equal to a coding's display has its row already.
    if (typeof v.text === 'string' && !codings.some((c) => sameText(c.display, v.text as string))) addToken(rows, param, ord, null, null, v.text)
    return
  }
  if (type === 'Coding' || typeof v.code === 'string') return addToken(rows, param, ord, v.system, v.code, v.display)
}

// A module function, not a closure made per value: the server runs under tsx, whose keepNames
// wraps every named closure in a `__name` call each time it is created (~5% of extraction, with
// reference.ts's, in a CPU profile).
function addToken(rows: IndexRows, param: string, ord: number, system: unknown, code: unknown, display: unknown, typeSystem: string | null = null, typeCode: string | null = null) {
  const c = typeof code === 'string' && code !== '' ? clip(code) : null
  const d = typeof display === 'string' && display.trim() ? clip(normalizeText(display)) : null
  if (c === null && d === null) return
  rows.addToken(param, ord, { system: typeof system === 'string' && system !== '' ? clip(system) : null, code: c, display: d, typeSystem, typeCode })
}

/**
 * The codings of a `coding` element. Validation reads an empty `{}` or `""` as absent, as
 * @medplum/core does, so such a value reaches the indexer where an array of Codings belongs; the
 * items of an array are checked objects. No copy: this runs for every concept of every create.
 */
function codingsOf(value: unknown): Coding[] {
  return Array.isArray(value) ? (value as Coding[]) : []
}

function sameText(display: unknown, text: string): boolean {
  return typeof display === 'string' && clip(normalizeText(display)) === clip(normalizeText(text))
}
