import type { Resource } from '@medplum/fhirtypes'

/** The interactions an access policy tells apart (SMART v2 letters c, r, u, d, s). */
export type AccessInteraction = 'create' | 'read' | 'update' | 'delete' | 'search'

/**
 * How a policy narrows a type search in the query itself, so that pages are full and totals
 * exact instead of filtered after the fact. Results are still checked with `allows` (second
 * line of defence), so a restriction may be wider than the policy but never narrower.
 */
export interface SearchRestriction {
  /** Only resources in this compartment (the token patient's): `SearchQuery.compartment`. */
  readonly compartment?: { readonly resourceType: 'Patient'; readonly id: string }
  /** Parameters AND-ed to the client's (a granular scope's query; `,` inside a value is OR). */
  readonly params: readonly (readonly [string, string])[]
  /**
   * True when compartment and params select exactly the resources `allows(…, 'search')` allows;
   * false when the policy is an OR a query cannot express (then they select a superset, results
   * are filtered, and the total can only be corrected page by page).
   */
  readonly exact: boolean
}

/**
 * A caller's limits inside its tenant, resource by resource: the patient compartment of a
 * patient-scoped token and the query of granular scopes (`patient/Observation.rs?category=…`).
 * src/auth builds it from the access token; the guarded repository applies it to every call,
 * so storage enforces it without knowing about tokens. Type-level scope checks stay in the
 * routes (`assertAllowed`); this decides about one resource's content.
 */
export interface AccessPolicy {
  /**
   * Whether the caller may perform `interaction` on a resource with this content: `read` for
   * read, vread and history, `search` for search results and included resources, `create` for
   * the new content, `update` for both the old and the new content, `delete` for the old one.
   */
  allows(resource: Resource, interaction: AccessInteraction): boolean
  /**
   * Whether any resource of this type could be allowed for `interaction`: false when a search
   * could only ever come back empty by policy (a patient token searching a type outside the
   * patient compartment), which the repository answers with forbidden instead.
   */
  allowsType(resourceType: string, interaction: AccessInteraction): boolean
  /**
   * What to add to a search of `resourceType` so the database returns only what `allows`
   * would keep; undefined when the policy does not restrict searches of that type.
   */
  searchRestriction(resourceType: string): SearchRestriction | undefined
}
