import type { SearchParamDef } from '../indexing/registry.js'

/**
 * The parsed search (https://hl7.org/fhir/R4/search.html): readonly data from parse.ts, read by
 * plan.ts and compile.ts. Several values of one clause are OR; clauses are AND.
 */
export interface SearchRequest {
  /** The type searched; '' for a system-level search (then `system` says which types). */
  readonly resourceType: string
  /** System-level search (`GET [base]?_type=...`): the `_type` list, undefined for every type. */
  readonly system?: { readonly types?: readonly string[] }
  readonly clauses: readonly SearchFilter[]
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
  /** `_contained=true|both` and `_containedType`; absent for `_contained=false` (the default). */
  readonly contained?: ContainedSearch
}

/**
 * https://hl7.org/fhir/R4/search.html#contained — `true`: the filters select contained resources of
 * the searched type (in containers of any type); `both`: those and the resources themselves.
 * `returns`: the entry of a contained match is its container (default) or the contained resource.
 */
export interface ContainedSearch {
  readonly mode: 'true' | 'both'
  readonly returns: 'container' | 'contained'
}

export type TotalMode = 'none' | 'estimate' | 'accurate'

/** https://hl7.org/fhir/R4/search.html#prefix */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap'

/** What one query parameter (or the compartment of a compartment search) asks of a resource. */
export type SearchFilter = SearchClause | ChainFilter | HasFilter | TextFilter | ListFilter | CompartmentFilter

/** One `name[:modifier]=v1,v2` parameter: matches when any value matches (or, for `:not`, none). */
export interface SearchClause {
  readonly kind: 'param'
  readonly name: string
  readonly def: SearchParamDef
  readonly modifier?: string
  /** `:missing=true|false`; then `values` is empty. */
  readonly missing?: boolean
  readonly values: readonly ParamValue[]
}

/**
 * A chained parameter (https://hl7.org/fhir/R4/search.html#chaining): `subject:Patient.name=x` — the
 * reference parameter `ref` points to a resource of one of `targets` matching that target's filter
 * (itself a leaf or a further chain). Several targets when the reference has several types and no
 * `:Type` qualifier: any of them may match.
 */
export interface ChainFilter {
  readonly kind: 'chain'
  readonly name: string
  readonly ref: SearchParamDef
  readonly targets: readonly ChainTarget[]
}

export interface ChainTarget {
  readonly resourceType: string
  readonly filter: SearchFilter
  /**
   * Also follow `#id` references into the referring resource's contained resources of this type
   * (search.html#contained: "a chained condition will be evaluated inside contained resources").
   * Set before planning (contained-chain.ts) only when the tenant holds such contained resources
   * and the filter can be evaluated on them, so other chains keep their plans.
   */
  readonly contained?: boolean
}

/**
 * Reverse chaining (https://hl7.org/fhir/R4/search.html#has): `_has:Observation:patient:code=x` — some
 * `resourceType` resource whose reference parameter `ref` points here matches `filter`.
 */
export interface HasFilter {
  readonly kind: 'has'
  readonly name: string
  readonly resourceType: string
  readonly ref: SearchParamDef
  readonly filter: SearchFilter
}

/**
 * `_text` (narrative) / `_content` (whole resource) full text (https://hl7.org/fhir/R4/search.html#text):
 * each value is a list of normalised words that must all start a word of the text; values are OR.
 */
export interface TextFilter {
  readonly kind: 'text'
  readonly name: '_text' | '_content'
  readonly values: readonly (readonly string[])[]
}

/** `_list=id` (https://hl7.org/fhir/R4/search.html#list): referenced from `List/id`'s `entry.item`. */
export interface ListFilter {
  readonly kind: 'list'
  readonly name: '_list'
  readonly ids: readonly string[]
}

/**
 * Compartment search (https://hl7.org/fhir/R4/compartmentdefinition.html): a reference through any of
 * `params` to `resourceType/id`, or (`self`) being that resource.
 */
export interface CompartmentFilter {
  readonly kind: 'compartment'
  readonly name: string
  readonly resourceType: string
  readonly id: string
  readonly params: readonly string[]
  readonly self: boolean
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
  /** Location `near` (params/near.ts): within `km` great-circle kilometres of the point. */
  | { readonly kind: 'near'; readonly lat: number; readonly long: number; readonly km: number }
  | CodeSetValue

/**
 * Token `:in` / `:not-in` (a ValueSet) and `:below` / `:above` (a CodeSystem hierarchy): parsed as the
 * reference, then expanded from the tenant's stored terminology before compiling (code-sets.ts).
 */
export interface CodeSetValue {
  readonly kind: 'code-set'
  readonly source: { readonly valueSet: string } | { readonly system: string; readonly code: string; readonly direction: 'below' | 'above' }
  readonly expansion?: CodeSetExpansion
}

export interface CodeSetExpansion {
  /** Codes listed, grouped by system ('' for no system). */
  readonly codes: ReadonlyMap<string, readonly string[]>
  /** Whole systems included (`compose.include` with a system and no concepts), minus the listed exclusions. */
  readonly systems: readonly { readonly system: string; readonly except: readonly string[] }[]
}

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
