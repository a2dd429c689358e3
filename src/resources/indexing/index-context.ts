import type { SearchParamRegistry } from './registry.js'

/** What value indexing needs to know beyond the resource. */
export interface IndexContext {
  /**
   * `[server]/fhir/{tenant}/` — an absolute reference starting with it is stored as the local
   * `Type/id` it names (https://hl7.org/fhir/R4/search.html#reference). Undefined: no local base.
   */
  readonly localBase?: string
  /**
   * The parameters in force (a tenant's registry): a contained resource is indexed with those of
   * its own type (contained.ts). Required, so that no write path can index a container without them.
   */
  readonly registry: SearchParamRegistry
  /**
   * id → resource type of the resource's `contained` resources, set only when it has some: a
   * local reference `#id` to one of them is indexed as (type, `#id`), which chains follow into it.
   */
  readonly contained?: ReadonlyMap<string, string>
}
