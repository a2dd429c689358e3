import type { SearchParamDef } from '../indexing/registry.js'

/**
 * The parsed search (https://hl7.org/fhir/R4/search.html): readonly data from parse.ts, read by
 * plan.ts and compile.ts. Several values of one clause are OR; clauses are AND.
 */
export interface SearchRequest {
  readonly resourceType: string
  readonly clauses: readonly SearchClause[]
  readonly sort: readonly SortSpec[]
  /** Page size: `_count`, default 20, at most 1000. */
  readonly count: number
  readonly total: TotalMode
  readonly summary?: 'true' | 'text' | 'data' | 'count' | 'false'
  readonly elements?: readonly string[]
  readonly cursor?: PageCursor
  /** The parameters this request understood, as [name, value] pairs in their given order (for the self link). */
  readonly used: readonly (readonly [string, string])[]
  /** `_include` / `_revinclude` values as given (`[name, value]`, `name` keeps its `:iterate`), resolved by include.ts. */
  readonly includes: readonly (readonly [string, string])[]
  /** Parameter names that were not understood and were ignored (lenient handling). */
  readonly ignored: readonly string[]
}

export type TotalMode = 'none' | 'estimate' | 'accurate'

/** https://hl7.org/fhir/R4/search.html#prefix */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap'

/** One `name[:modifier]=v1,v2` parameter: matches when any value matches (or, for `:not`, none). */
export interface SearchClause {
  readonly name: string
  readonly def: SearchParamDef
  readonly modifier?: string
  /** `:missing=true|false`; then `values` is empty. */
  readonly missing?: boolean
  readonly values: readonly ParamValue[]
}

export type ParamValue =
  | { readonly kind: 'string'; readonly normalized: string; readonly exact: string }
  | TokenValue
  | { readonly kind: 'date'; readonly prefix: Prefix; readonly start: Date; readonly end: Date }
  | NumberValue
  | (Omit<NumberValue, 'kind'> & { readonly kind: 'quantity'; readonly system?: string; readonly code?: string; readonly unit?: string })
  | ReferenceValue
  | { readonly kind: 'uri'; readonly value: string }
  | { readonly kind: 'composite'; readonly parts: readonly ParamValue[] }

export interface TokenValue {
  readonly kind: 'token'
  /** undefined: any system; null: no system (`|code`). */
  readonly system?: string | null
  readonly code?: string
  /** `:text`: normalised words to find in display/text. */
  readonly text?: string
  /** `:of-type`: the identifier type coding. */
  readonly typeSystem?: string
  readonly typeCode?: string
}

export interface NumberValue {
  readonly kind: 'number'
  readonly prefix: Prefix
  /** The value as written, and [low, high) from its implicit precision (`100` → [99.5, 100.5)). */
  readonly value: string
  readonly low: string
  readonly high: string
}

export type ReferenceValue =
  | { readonly kind: 'reference'; readonly type?: string; readonly id: string; readonly isLocal: boolean }
  | { readonly kind: 'reference-identifier'; readonly identifier: TokenValue }

/** `_sort` key: a parameter (or `_id` / `_lastUpdated`) and a direction. */
export interface SortSpec {
  readonly name: string
  readonly def: SearchParamDef
  readonly descending: boolean
}

/** Where a page starts: after (next) or before (previous) a row's sort keys. */
export interface PageCursor {
  readonly direction: 'after' | 'before'
  /** Which phase of a sorted walk: 0 = rows with the first sort key, 1 = rows without it. */
  readonly phase: number
  /** The row's sort key values (null where the row had none), then its id. */
  readonly keys: readonly (string | null)[]
  readonly id: string
}
