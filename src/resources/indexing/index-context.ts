/** What value indexing needs to know beyond the resource. */
export interface IndexContext {
  /**
   * `[server]/fhir/{tenant}/` — an absolute reference starting with it is stored as the local
   * `Type/id` it names (https://hl7.org/fhir/R4/search.html#reference). Undefined: no local base.
   */
  readonly localBase?: string
}
