import { describe, expect, it } from 'vitest'
import { isFhirError } from '../../src/errors.js'
import { assertAllowed, parseScopes, type AuthContext, type Interaction, type ScopeGrant } from '../../src/auth/index.js'
import { narrowScope } from '../../src/auth/scopes.js'

const plain = (grants: ScopeGrant[]) => grants.map((g) => ({ ...g, interactions: [...g.interactions].sort().join('') }))

const contextWith = (scope: string, extra: Partial<AuthContext> = {}): AuthContext => ({
  tenantId: 't',
  clientId: 'c',
  scope,
  scopes: parseScopes(scope),
  ...extra,
})

const forbiddenMessage = (run: () => void): string | undefined => {
  try {
    run()
    return undefined
  } catch (err) {
    if (isFhirError(err) && err.kind === 'forbidden') return err.message
    throw err
  }
}

describe('parseScopes', () => {
  it('reads SMART v1 .read as read+search, .write as create+update+delete and .* as all five', () => {
    expect(plain(parseScopes('patient/Observation.read user/Patient.write system/*.*'))).toEqual([
      { context: 'patient', resourceType: 'Observation', interactions: 'rs' },
      { context: 'user', resourceType: 'Patient', interactions: 'cdu' },
      { context: 'system', resourceType: '*', interactions: 'cdrsu' },
    ])
  })

  it('reads SMART v2 letter scopes such as .rs and .cruds', () => {
    expect(plain(parseScopes('system/Patient.rs user/*.cruds patient/Encounter.c'))).toEqual([
      { context: 'system', resourceType: 'Patient', interactions: 'rs' },
      { context: 'user', resourceType: '*', interactions: 'cdrsu' },
      { context: 'patient', resourceType: 'Encounter', interactions: 'c' },
    ])
  })

  it('ignores openid, fhirUser, launch, offline_access and other non-resource scopes', () => {
    expect(parseScopes('openid fhirUser launch launch/patient offline_access online_access')).toEqual([])
  })

  it('ignores v2 letters out of c-r-u-d-s order, repeated letters, unknown contexts and lower-case types', () => {
    expect(parseScopes('system/Patient.sr system/Patient.rr admin/Patient.read system/patient.read system/Patient.x')).toEqual([])
  })

  it('keeps a v2 granular scope query as a filter of AND-ed parameters with OR-ed values', () => {
    expect(plain(parseScopes('patient/Observation.rs?category=vital-signs,laboratory&status=final'))).toEqual([
      {
        context: 'patient',
        resourceType: 'Observation',
        interactions: 'rs',
        filter: [
          { name: 'category', values: ['vital-signs', 'laboratory'] },
          { name: 'status', values: ['final'] },
        ],
      },
    ])
  })

  it('drops a query on a v1 scope or on * instead of widening it', () => {
    expect(parseScopes('patient/Observation.read?category=laboratory patient/*.rs?category=laboratory')).toEqual([])
  })

  it('tolerates extra whitespace and an empty string', () => {
    expect(plain(parseScopes('  system/Patient.r \n system/Patient.s  '))).toHaveLength(2)
    expect(parseScopes('')).toEqual([])
  })

  it('does not mistake Object prototype names for v1 actions', () => {
    expect(parseScopes('system/Patient.constructor system/Patient.tostring')).toEqual([])
  })
})

describe('assertAllowed', () => {
  const interactions: Interaction[] = ['create', 'read', 'vread', 'update', 'patch', 'delete', 'history', 'search', 'operation']
  // Which interactions on Patient each granted scope allows (instance-level history).
  const truthTable: Record<string, Interaction[]> = {
    'system/Patient.c': ['create'],
    'system/Patient.r': ['read', 'vread', 'history', 'operation'],
    'system/Patient.u': ['update', 'patch'],
    'system/Patient.d': ['delete'],
    'system/Patient.s': ['search'],
    'system/Patient.read': ['read', 'vread', 'history', 'search', 'operation'],
    'system/Patient.write': ['create', 'update', 'patch', 'delete'],
    'system/Patient.*': interactions,
    'system/*.cruds': interactions,
    'system/Observation.cruds': [],
    openid: [],
  }

  for (const [scope, allowed] of Object.entries(truthTable)) {
    it(`with ${scope} allows exactly ${allowed.join(', ') || 'nothing'} on Patient`, () => {
      const ctx = contextWith(scope)
      const actual = interactions.filter((i) => forbiddenMessage(() => assertAllowed(ctx, 'Patient', i)) === undefined)
      expect(actual).toEqual(allowed)
    })
  }

  it('allows type-level history with a search-only grant but not instance history', () => {
    const ctx = contextWith('system/Patient.s')
    expect(forbiddenMessage(() => assertAllowed(ctx, 'Patient', 'history', { level: 'type' }))).toBeUndefined()
    expect(forbiddenMessage(() => assertAllowed(ctx, 'Patient', 'history'))).toBeDefined()
  })

  it('requires a wildcard grant for a system-level interaction on resource type *', () => {
    expect(forbiddenMessage(() => assertAllowed(contextWith('system/Patient.rs'), '*', 'search'))).toBeDefined()
    expect(forbiddenMessage(() => assertAllowed(contextWith('system/*.rs'), '*', 'search'))).toBeUndefined()
  })

  it('throws forbidden naming the missing v2 and v1 scope', () => {
    const message = forbiddenMessage(() => assertAllowed(contextWith('system/Patient.rs'), 'Patient', 'update'))
    expect(message).toBe('Scope does not allow update on Patient: needs system/Patient.u or system/Patient.write')
  })

  it('names both letters that would allow type-level history', () => {
    const message = forbiddenMessage(() => assertAllowed(contextWith(''), 'Patient', 'history', { level: 'type' }))
    expect(message).toBe('Scope does not allow history on Patient: needs system/Patient.r, system/Patient.s or system/Patient.read')
  })

  it('names patient/ scopes in the message for a patient-scoped token', () => {
    const message = forbiddenMessage(() => assertAllowed(contextWith('patient/Observation.rs', { patient: '123' }), 'Observation', 'delete'))
    expect(message).toBe('Scope does not allow delete on Observation: needs patient/Observation.d or patient/Observation.write')
  })
})

describe('narrowScope', () => {
  it('grants a requested scope verbatim when one registered scope covers it, wildcards included', () => {
    expect(narrowScope('system/Patient.cruds system/Observation.read', 'system/*.*')).toBe('system/Patient.cruds system/Observation.read')
    expect(narrowScope('system/Patient.rs', 'system/Patient.read')).toBe('system/Patient.rs')
  })

  it('narrows a requested scope to the registered interactions, in v2 form', () => {
    expect(narrowScope('system/Patient.cruds', 'system/Patient.rs')).toBe('system/Patient.rs')
    expect(narrowScope('system/*.read', 'system/Patient.r system/Observation.rs')).toBe('system/Patient.r system/Observation.rs')
  })

  it('drops requested scopes of another context or type, and unregistered non-resource scopes', () => {
    expect(narrowScope('user/Patient.read system/Encounter.read openid', 'system/Patient.read')).toBe('')
  })

  it('keeps a non-resource scope that is registered verbatim', () => {
    expect(narrowScope('openid system/Patient.r', 'openid system/Patient.read')).toBe('openid system/Patient.r')
  })
})
