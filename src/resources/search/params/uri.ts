import { sql } from 'kysely'
import { clip } from '../../indexing/normalize.js'
import { unescapeValue } from '../escapes.js'
import type { ParamValue } from '../types.js'
import type { ParamType } from './param-type.js'
import { MAX_CHAR } from './string.js'

type UriValue = Extract<ParamValue, { kind: 'uri' }>

/**
 * uri (https://hl7.org/fhir/R4/search.html#uri): exact match; `:below` — the stored uri starts with
 * the value; `:above` — the stored uri is the value or one of its parents (cut at a `/`).
 */
export const uriParam: ParamType<UriValue> = {
  table: 'search_uri',
  modifiers: ['below', 'above'],
  parse(raw) {
    return { kind: 'uri', value: clip(unescapeValue(raw)) }
  },
  where(x, v, modifier) {
    const value = sql.ref(`${x}.value`)
    if (modifier === 'below') return sql`(${value} >= ${v.value} AND ${value} < ${v.value + MAX_CHAR})`
    if (modifier === 'above') return sql`${value} = ANY(${parentsOf(v.value)}::text[])`
    return sql`${value} = ${v.value}`
  },
}

/** `http://a.org/fhir/ValueSet/1` → itself, `http://a.org/fhir/ValueSet/`, `http://a.org/fhir/ValueSet`, ... */
function parentsOf(uri: string): string[] {
  const out = new Set([uri])
  const afterScheme = uri.indexOf('://') + 3
  for (let i = uri.length - 1; i > afterScheme; i--) {
    if (uri[i] === '/') {
      out.add(uri.slice(0, i + 1))
      out.add(uri.slice(0, i))
    }
  }
  return [...out]
}
