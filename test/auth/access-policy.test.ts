import type { Observation, Patient, Practitioner } from '@medplum/fhirtypes'
import { describe, expect, it } from 'vitest'
import { createAccessPolicy } from '../../src/auth/access-policy.js'
import { loadPatientCompartment } from '../../src/auth/compartment.js'
import { parseScopes } from '../../src/auth/scopes.js'
import { loadSearchParams } from '../../src/auth/search-params.js'

const searchParams = loadSearchParams()
const rules = { searchParams, compartment: loadPatientCompartment(searchParams) }
const policy = (scope: string, patient?: string) => createAccessPolicy(rules, parseScopes(scope), patient)

const observation = (subject: string, category = 'vital-signs'): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'x' },
  subject: { reference: subject },
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
})

describe('patient compartment', () => {
  it('holds the patient itself, resources that reference it by any compartment parameter, absolute or versioned', () => {
    const c = rules.compartment
    expect(c.contains({ resourceType: 'Patient', id: 'p1' } as Patient, 'p1')).toBe(true)
    expect(c.contains(observation('Patient/p1'), 'p1')).toBe(true)
    expect(c.contains(observation('http://fhir.test/fhir/t/Patient/p1'), 'p1')).toBe(true)
    expect(c.contains({ ...observation('Group/g'), performer: [{ reference: 'Patient/p1/_history/2' }] }, 'p1')).toBe(true)
    expect(c.contains(observation('Patient/p10'), 'p1')).toBe(false)
    expect(c.contains({ resourceType: 'Patient', id: 'p2' } as Patient, 'p1')).toBe(false)
  })

  it('knows which types can be in it', () => {
    expect(rules.compartment.hasType('Observation')).toBe(true)
    expect(rules.compartment.hasType('Practitioner')).toBe(false)
  })
})

describe('createAccessPolicy', () => {
  it('needs no policy for unfiltered user and system scopes', () => {
    expect(policy('user/*.cruds system/Patient.rs')).toBeUndefined()
  })

  it('holds patient/ scopes to the token patient, per interaction letter', () => {
    const p = policy('patient/Observation.rs patient/Observation.c', 'p1')!
    expect(p.allows(observation('Patient/p1'), 'read')).toBe(true)
    expect(p.allows(observation('Patient/p2'), 'read')).toBe(false)
    expect(p.allows(observation('Patient/p1'), 'create')).toBe(true)
    expect(p.allows(observation('Patient/p1'), 'update')).toBe(false)
    expect(p.allowsType('Practitioner', 'search')).toBe(false)
    expect(p.allows({ resourceType: 'Practitioner', id: 'x' } as Practitioner, 'read')).toBe(false)
  })

  it('allows nothing through patient/ scopes when the token has no patient', () => {
    expect(policy('patient/*.rs')!.allows(observation('Patient/p1'), 'read')).toBe(false)
  })

  it('applies a granular filter: token code, system|code, OR within a parameter, AND across them', () => {
    expect(policy('user/Observation.rs?category=vital-signs')!.allows(observation('Patient/p1'), 'read')).toBe(true)
    expect(policy('user/Observation.rs?category=vital-signs')!.allows(observation('Patient/p1', 'laboratory'), 'read')).toBe(false)
    expect(policy('user/Observation.rs?category=laboratory,vital-signs')!.allows(observation('Patient/p1'), 'read')).toBe(true)
    expect(policy('user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs')!.allows(observation('Patient/p1'), 'read')).toBe(true)
    expect(policy('user/Observation.rs?category=http://other|vital-signs')!.allows(observation('Patient/p1'), 'read')).toBe(false)
    expect(policy('user/Observation.rs?category=vital-signs&status=final')!.allows(observation('Patient/p1'), 'read')).toBe(true)
    expect(policy('user/Observation.rs?category=vital-signs&status=preliminary')!.allows(observation('Patient/p1'), 'read')).toBe(false)
  })

  it('denies a filter it cannot evaluate (modifier, unknown or non-token parameter) instead of widening', () => {
    for (const scope of ['user/Observation.rs?category:not=x', 'user/Observation.rs?nonsense=1', 'user/Observation.rs?date=2020']) {
      expect(policy(scope)!.allows(observation('Patient/p1'), 'read'), scope).toBe(false)
    }
  })

  it('lets an unfiltered grant cover what a filtered one does not', () => {
    expect(policy('user/Observation.rs?category=laboratory user/Observation.r')!.allows(observation('Patient/p1'), 'read')).toBe(true)
    expect(policy('user/Observation.rs?category=laboratory user/Observation.r')!.allows(observation('Patient/p1'), 'search')).toBe(false)
  })
})
