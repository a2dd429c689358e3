import { sql, type RawBuilder } from 'kysely'
import { invalid } from '../../errors.js'
import type { PageCursor } from './types.js'

/**
 * Keyset paging (https://hl7.org/fhir/R4/http.html#paging): a cursor is the sort keys and id of the
 * row a page starts after (next) or before (previous), so pages stay exact while others write — no
 * duplicates, no gaps — and links keep the form `[base]/[type]?[params]&_cursor=...`. It is opaque
 * base64url JSON, not a server-side session.
 */
export function encodeCursor(cursor: PageCursor): string {
  const body = JSON.stringify([cursor.direction === 'after' ? 'a' : 'b', cursor.phase, cursor.keys, cursor.id])
  return Buffer.from(body, 'utf8').toString('base64url')
}

export function decodeCursor(text: string): PageCursor {
  try {
    const [d, phase, keys, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[]
    const isKeys = Array.isArray(keys) && keys.every((k) => k === null || typeof k === 'string')
    if ((d === 'a' || d === 'b') && (phase === 0 || phase === 1) && isKeys && typeof id === 'string') {
      return { direction: d === 'a' ? 'after' : 'before', phase, keys: keys as (string | null)[], id }
    }
  } catch {
    // fall through to the 400 below
  }
  throw invalid(`_cursor '${text.slice(0, 60)}' is not a paging cursor of this server (follow the Bundle's links)`, { expression: ['_cursor'] })
}

/** One ORDER BY key of a page query: an expression, its direction, and whether it may be NULL. */
export interface OrderKey {
  readonly expression: RawBuilder<unknown>
  readonly descending: boolean
  readonly nullable: boolean
  /** How a cursor's text value is turned back into a comparable SQL value (e.g. `::timestamptz`). */
  readonly cast?: string
}

/**
 * The keyset condition "the row comes after (or, walking back, before) the cursor" in the order of
 * `keys` (NULLS LAST), as a disjunction: k0 beyond c0, or k0 = c0 and k1 beyond c1, ... The first
 * key's bound is repeated as a plain range condition so the planner can start the index scan there.
 */
export function keysetCondition(keys: readonly OrderKey[], values: readonly (string | null)[], direction: 'after' | 'before'): RawBuilder<unknown> {
  keys.forEach((key, i) => checkCursorValue(values[i] ?? null, key.cast))
  const terms: RawBuilder<unknown>[] = []
  const equal: RawBuilder<unknown>[] = []
  keys.forEach((key, i) => {
    const c = values[i] ?? null
    const value = key.cast ? sql`${c}${sql.raw(key.cast)}` : sql`${c}`
    const forward = direction === 'after' !== key.descending
    const nullsBeyond = key.nullable && direction === 'after' ? sql` OR ${key.expression} IS NULL` : sql``
    const beyond =
      c === null
        ? direction === 'after'
          ? undefined
          : sql`${key.expression} IS NOT NULL`
        : sql`(${key.expression} ${sql.raw(forward ? '>' : '<')} ${value}${nullsBeyond})`
    if (beyond) terms.push(equal.length ? sql`(${sql.join([...equal, beyond], sql` AND `)})` : beyond)
    equal.push(c === null ? sql`${key.expression} IS NULL` : sql`${key.expression} = ${value}`)
  })
  const first = keys[0]
  const c0 = values[0] ?? null
  const disjunction = terms.length ? sql`(${sql.join(terms, sql` OR `)})` : sql`FALSE`
  if (!first || c0 === null || first.nullable) return disjunction
  const forward = direction === 'after' !== first.descending
  const bound = first.cast ? sql`${c0}${sql.raw(first.cast)}` : sql`${c0}`
  return sql`${first.expression} ${sql.raw(forward ? '>=' : '<=')} ${bound} AND ${disjunction}`
}

const CAST_SHAPES: Readonly<Record<string, RegExp>> = {
  '::numeric': /^(-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|-?Infinity)$/,
  '::timestamptz': /^(-?infinity|\d{4}-\d{2}-\d{2}[T ][0-9:.]+([+-]\d{2}(:?\d{2})?|Z)?)$/,
}

/**
 * A cursor key the cast would refuse (a hand-edited cursor, or one issued before a key changed
 * type, e.g. quantity sorts moved from search_sort's text keys to numbers) is the client's 400,
 * not a database error.
 */
function checkCursorValue(value: string | null, cast: string | undefined): void {
  const shape = cast ? CAST_SHAPES[cast] : undefined
  if (value === null || !shape || shape.test(value)) return
  throw invalid(`_cursor holds '${value.slice(0, 40)}', which is not a key of this sort (start again from the first page)`, { expression: ['_cursor'] })
}

/** ORDER BY for the keys; walking back reverses every key (the page is re-reversed in memory). */
export function orderBy(keys: readonly OrderKey[], direction: 'after' | 'before'): RawBuilder<unknown> {
  return sql.join(
    keys.map((key) => {
      const descending = key.descending !== (direction === 'before')
      const nulls = key.nullable ? (direction === 'before' ? ' NULLS FIRST' : ' NULLS LAST') : ''
      return sql`${key.expression}${sql.raw(descending ? ' DESC' : ' ASC')}${sql.raw(nulls)}`
    }),
  )
}
