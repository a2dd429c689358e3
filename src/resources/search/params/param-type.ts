import type { RawBuilder } from 'kysely'
import { invalid } from '../../../errors.js'
import type { ParamValue, Prefix } from '../types.js'

/** The index table a parameter type lives in. */
export type IndexTable = 'search_string' | 'search_token' | 'search_reference' | 'search_date' | 'search_number' | 'search_quantity' | 'search_uri'

/** What parsing one value needs besides the text. */
export interface ValueContext {
  /** The parameter as written (`code:text`), for error messages. */
  readonly name: string
  readonly modifier?: string
  /** `[server]/fhir/{tenant}/`: absolute references under it are local. */
  readonly localBase?: string
  readonly now: Date
}

/**
 * One search parameter type behind one interface (STYLE example 3): parse a value for the query
 * side, and the SQL condition on an index row (alias `x`) that matches it. The write side is in
 * ../../indexing/<type>.ts.
 */
export interface ParamType<V extends ParamValue = ParamValue> {
  readonly table: IndexTable
  /** Modifiers accepted besides `missing` and `not`. */
  readonly modifiers: readonly string[]
  parse(raw: string, ctx: ValueContext): V
  where(x: string, value: V, modifier: string | undefined): RawBuilder<unknown>
}

const PREFIXES: readonly Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']

/** `ge2024` → ['ge', '2024']; no prefix → 'eq'. */
export function splitPrefix(raw: string): [Prefix, string] {
  const head = raw.slice(0, 2) as Prefix
  return PREFIXES.includes(head) && raw.length > 2 && /[0-9-]/.test(raw[2]!) ? [head, raw.slice(2)] : ['eq', raw]
}

export function badValue(ctx: { readonly name: string }, raw: string, expected: string) {
  return invalid(`Parameter ${ctx.name}: '${raw.slice(0, 100)}' is not ${expected}`, { expression: [ctx.name] })
}
