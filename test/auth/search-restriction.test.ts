import { describe, expect, it } from 'vitest'
import { createAccessPolicy } from '../../src/auth/access-policy.js'
import { loadPatientCompartment } from '../../src/auth/compartment.js'
import { parseScopes } from '../../src/auth/scopes.js'
import { loadSearchParams } from '../../src/auth/search-params.js'

/** What a token's policy asks the search engine to add to a query (exact pages and totals). */
const searchParams = loadSearchParams()
const rules = { searchParams, compartment: loadPatientCompartment(searchParams) }
const restriction = (scope: string, type: string, patient?: string) => createAccessPolicy(rules, parseScopes(scope), patient)?.searchRestriction(type)

describe('searchRestriction', () => {
  it('puts the token patient compartment in a patient/ search, exactly', () => {
    expect(restriction('patient/*.rs', 'Observation', 'p1')).toEqual({ compartment: { resourceType: 'Patient', id: 'p1' }, params: [], exact: true })
  })

  it('adds a granular query as AND-ed parameters, with the compartment for patient/', () => {
    expect(restriction('patient/Observation.rs?category=vital-signs', 'Observation', 'p1')).toEqual({
      compartment: { resourceType: 'Patient', id: 'p1' },
      params: [['category', 'vital-signs']],
      exact: true,
    })
    expect(restriction('system/Observation.rs?category=vital-signs&status=final', 'Observation')).toEqual({
      params: [
        ['category', 'vital-signs'],
        ['status', 'final'],
      ],
      exact: true,
    })
  })

  it('turns several grants that differ in one parameter into one OR-ed parameter', () => {
    const r = restriction('user/Observation.rs?category=vital-signs user/Observation.rs?category=laboratory', 'Observation')
    expect(r).toEqual({ params: [['category', 'vital-signs,laboratory']], exact: true })
    const shared = restriction('user/Observation.rs?status=final&category=a user/Observation.rs?status=final&category=b', 'Observation')
    expect(shared).toEqual({ params: [['status', 'final'], ['category', 'a,b']], exact: true })
  })

  it('keeps only the common part, inexact, when the OR cannot be expressed', () => {
    const r = restriction('user/Observation.rs?status=final&category=a user/Observation.rs?status=final&code=x', 'Observation')
    expect(r).toEqual({ params: [['status', 'final']], exact: false })
  })

  it('needs no restriction when an unfiltered user/ or system/ grant covers the type', () => {
    expect(restriction('user/Observation.rs?category=a user/*.rs', 'Observation')).toBeUndefined()
    expect(restriction('patient/*.rs user/Observation.rs', 'Observation', 'p1')).toBeUndefined()
    // No grant allows searching Patient at all (the route refuses it first): nothing is exact.
    expect(restriction('user/Observation.rs?category=a', 'Patient')).toEqual({ params: [], exact: false })
  })

  it('drops the compartment, inexact, when patient/ and filtered user/ grants mix', () => {
    expect(restriction('patient/Observation.rs?category=a user/Observation.rs?category=a', 'Observation', 'p1')).toEqual({ params: [['category', 'a']], exact: false })
  })

  it('escapes commas and backslashes a value can hold literally, and ignores grants that match nothing', () => {
    expect(restriction('user/Observation.rs?code=a%5Cb', 'Observation')).toEqual({ params: [['code', 'a\\\\b']], exact: true })
    // A non-token parameter never matches in memory, so it allows nothing and restricts to nothing exact.
    expect(restriction('user/Observation.rs?date=2020', 'Observation')).toEqual({ params: [], exact: false })
    expect(restriction('user/Observation.rs?date=2020 user/Observation.rs?category=a', 'Observation')).toEqual({ params: [['category', 'a']], exact: true })
  })

  it('subsumes a grant whose query extends another one', () => {
    expect(restriction('user/Observation.rs?category=a user/Observation.rs?category=a&code=x', 'Observation')).toEqual({ params: [['category', 'a']], exact: true })
  })
})
