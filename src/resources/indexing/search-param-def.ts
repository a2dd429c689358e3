import type { Evaluator } from './expression.js'

// The compiled shape of SearchParameters (registry.ts builds it, composite-alias.ts and union-alias.ts refine it);
// a file of its own so that both can import it without a cycle.

/** https://hl7.org/fhir/R4/valueset-search-param-type.html */
export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special'

/** Parameters answered from the resource table itself, not from index rows. */
export type ResourceColumn = 'id' | 'lastUpdated'

export interface CompositeComponent {
  readonly type: Exclude<SearchParamType, 'composite' | 'special'>
  readonly evaluate: Evaluator
  /** The component's FHIRPath, relative to the composite's element. */
  readonly expression: string
  /** SearchParameter.component.definition: the canonical URL of the parameter it narrows. */
  readonly definition?: string
  /**
   * The code of the plain parameter whose rows this component reads instead of writing
   * `<code>#<i>` rows of its own (composites over the resource root only; composite-alias.ts).
   */
  readonly alias?: string
}

/** One search parameter of one resource type, its expression compiled. */
export interface SearchParamDef {
  readonly code: string
  readonly type: SearchParamType
  readonly url: string
  readonly description?: string
  /** SearchParameter.expression as written (composite-alias.ts and union-alias.ts compare them). */
  readonly expression?: string
  /** Undefined for `_id`/`_lastUpdated` (resource columns) and parameters without an expression. */
  readonly evaluate?: Evaluator
  /** Root keys a resource needs for `evaluate` to find anything (expression.ts CompiledExpression.rootKeys); undefined: always evaluate. */
  readonly rootKeys?: readonly string[]
  readonly column?: ResourceColumn
  /** Target resource types of a reference parameter. */
  readonly targets?: readonly string[]
  readonly components?: readonly CompositeComponent[]
  /** Set when the parameter's rows are its members' rows (union-alias.ts): it writes none of its own. */
  readonly union?: UnionAlias
}

/**
 * A parameter that is the union of other parameters of its type (R4 `combo-code` = `code` ∪
 * `component-code`): a search on it is the same search on each member, ORed.
 */
export interface UnionAlias {
  /** Plain parameters (never aliases themselves) whose rows, together, are this parameter's. */
  readonly members: readonly SearchParamDef[]
  /**
   * Only the members' rows referring to this type (`patient` = `subject.where(resolve() is
   * Patient)`). Such an alias also keeps rows of its own: the references to a Patient that a
   * ref_type cannot tell (external URLs, identifiers), see union-alias-rows.ts.
   */
  readonly refType?: string
}

/** The search parameters of one resource type. */
export interface TypeSearchParams {
  readonly resourceType: string
  readonly byCode: ReadonlyMap<string, SearchParamDef>
  /**
   * The parameters with index rows of their own, in definition order (what extraction evaluates): a
   * composite whose every component is an alias is left out, its rows are its aliases' rows, and so
   * is a union alias unless it keeps a search_sort row or rows its members cannot hold.
   */
  readonly indexed: readonly SearchParamDef[]
}

/** A list element of a SearchParameter resource: validation lets an empty {} through where an array belongs. */
export const listOf = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : [])
