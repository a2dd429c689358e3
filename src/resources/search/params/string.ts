import { sql } from 'kysely'
import { clip, normalizeText } from '../../indexing/normalize.js'
import { unescapeValue } from '../escapes.js'
import type { ParamValue } from '../types.js'
import type { ParamType } from './param-type.js'

type StringValue = Extract<ParamValue, { kind: 'string' }>

/** U+10FFFF: under COLLATE "C", `p <= v < p || MAX` is exactly "v starts with p", as an index range. */
export const MAX_CHAR = String.fromCodePoint(0x10ffff)

/** Escapes LIKE wildcards so a value is matched literally. */
export const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * string (https://hl7.org/fhir/R4/search.html#string): starts-with, case- and accent-insensitive;
 * `:exact` (as written); `:contains` (anywhere; scans the parameter's index range, no trigram index).
 */
export const stringParam: ParamType<StringValue> = {
  table: 'search_string',
  modifiers: ['exact', 'contains'],
  parse(raw) {
    const exact = unescapeValue(raw)
    return { kind: 'string', normalized: clip(normalizeText(exact)), exact: clip(exact) }
  },
  where(x, v, modifier) {
    const value = sql.ref(`${x}.value`)
    if (modifier === 'exact') return sql`(${value} = ${v.normalized} AND ${sql.ref(`${x}.exact`)} = ${v.exact})`
    if (modifier === 'contains') return sql`${value} LIKE ${`%${likeLiteral(v.normalized)}%`}`
    return sql`(${value} >= ${v.normalized} AND ${value} < ${v.normalized + MAX_CHAR})`
  },
}
