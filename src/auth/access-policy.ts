import type { Resource } from '@medplum/fhirtypes'
import type { AccessInteraction, AccessPolicy, SearchRestriction } from '../resources/index.js'
import type { PatientCompartment } from './compartment.js'
import { matchesFilter } from './scope-filter.js'
import type { ScopeGrant, ScopeLetter } from './scopes.js'
import type { SearchParams } from './search-params.js'
import { searchRestrictionOf } from './search-restriction.js'

const LETTER: Record<AccessInteraction, ScopeLetter> = { create: 'c', read: 'r', update: 'u', delete: 'd', search: 's' }

export interface AccessRules {
  compartment: PatientCompartment
  searchParams: SearchParams
}

/**
 * The per-resource policy of a token, or undefined when its grants need none (no patient/
 * scope, no granular filter): then the repository runs unguarded and costs nothing extra.
 *
 * A resource is allowed when ONE grant covers it: same type (or `*`), the interaction's letter,
 * its filter (if any) matching, and — for a `patient/` grant — the resource in the token's
 * patient compartment. A `patient/` grant without a patient in the token allows nothing.
 */
export function createAccessPolicy(rules: AccessRules, grants: readonly ScopeGrant[], patient: string | undefined): AccessPolicy | undefined {
  if (!grants.some((g) => g.context === 'patient' || g.filter)) return undefined
  // Per type, computed once per token (the policy lives as long as the cached verified token).
  const restrictions = new Map<string, SearchRestriction | undefined>()
  return {
    searchRestriction(resourceType: string) {
      if (!restrictions.has(resourceType)) restrictions.set(resourceType, searchRestrictionOf(rules, grants, patient, resourceType))
      return restrictions.get(resourceType)
    },
    allowsType(resourceType: string, interaction: AccessInteraction) {
      const letter = LETTER[interaction]
      return grants.some(
        (g) =>
          (g.resourceType === '*' || g.resourceType === resourceType) &&
          g.interactions.has(letter) &&
          (g.context !== 'patient' || (patient !== undefined && rules.compartment.hasType(resourceType))),
      )
    },
    allows(resource: Resource, interaction: AccessInteraction) {
      const letter = LETTER[interaction]
      return grants.some(
        (g) =>
          (g.resourceType === '*' || g.resourceType === resource.resourceType) &&
          g.interactions.has(letter) &&
          (!g.filter || matchesFilter(rules.searchParams, resource, g.filter)) &&
          (g.context !== 'patient' || (patient !== undefined && rules.compartment.contains(resource, patient))),
      )
    },
  }
}
