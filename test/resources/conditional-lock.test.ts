import { describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { conditionalLockKeys as keysOf } from '../../src/resources/conditional.js'

const conditionalLockKeys = (tenantId: string, resourceType: string, criteria: [string, string][], resource?: Resource) =>
  keysOf(tenantId, [{ resourceType, criteria, ...(resource ? { resource } : {}) }])

/** The lock rule of conditional writes (src/resources/conditional.ts), as pure key computation. */
describe('conditionalLockKeys', () => {
  const MRN = 'http://hospital.example.org/mrn'

  it('gives the same keys to the same criteria in any parameter order', () => {
    const a = conditionalLockKeys('t1', 'Patient', [['identifier', `${MRN}|1`], ['active', 'true']])
    const b = conditionalLockKeys('t1', 'Patient', [['active', 'true'], ['identifier', `${MRN}|1`]])
    expect(a).toEqual(b)
  })

  it('shares the identifier key between identifier=a|1 and identifier=a|1&active=true', () => {
    const plain = conditionalLockKeys('t1', 'Patient', [['identifier', `${MRN}|1`]])
    const narrower = conditionalLockKeys('t1', 'Patient', [['identifier', `${MRN}|1`], ['active', 'true']])
    expect(plain).toHaveLength(2)
    expect(narrower.filter((k) => plain.includes(k))).toHaveLength(1)
  })

  it("keys on the written resource's identifier values even when the criteria name none", () => {
    const byName = conditionalLockKeys('t1', 'Patient', [['name', 'ana']], { resourceType: 'Patient', identifier: [{ system: MRN, value: '1' }] })
    const byIdentifier = conditionalLockKeys('t1', 'Patient', [['identifier', '1']])
    expect(byName.filter((k) => byIdentifier.includes(k))).toHaveLength(1)
  })

  it('keeps tenants and types apart', () => {
    const base = conditionalLockKeys('t1', 'Patient', [['identifier', `${MRN}|1`]])
    for (const other of [conditionalLockKeys('t2', 'Patient', [['identifier', `${MRN}|1`]]), conditionalLockKeys('t1', 'Practitioner', [['identifier', `${MRN}|1`]])]) {
      expect(other.filter((k) => base.includes(k))).toEqual([])
    }
  })

  it('returns distinct signed 64-bit integers in one sorted order', () => {
    const keys = conditionalLockKeys('t1', 'Patient', [['identifier', '1'], ['identifier', '1']], { resourceType: 'Patient', identifier: [{ value: '1' }, { value: '2' }] })
    expect(keys).toHaveLength(3)
    expect([...keys].sort()).toEqual(keys)
    for (const k of keys) expect(BigInt(k) >= -(2n ** 63n) && BigInt(k) < 2n ** 63n).toBe(true)
  })

  it('takes no identifier key for an OR list of identifiers (it names no single one)', () => {
    expect(conditionalLockKeys('t1', 'Patient', [['identifier', 'a|1,a|2']])).toHaveLength(1)
  })

  it('locks several writes at once in one sorted order, the union of their own keys', () => {
    const a = conditionalLockKeys('t1', 'Patient', [['identifier', `${MRN}|1`]])
    const b = conditionalLockKeys('t1', 'Organization', [['name', 'Clinic']])
    const both = keysOf('t1', [{ resourceType: 'Organization', criteria: [['name', 'Clinic']] }, { resourceType: 'Patient', criteria: [['identifier', `${MRN}|1`]] }])
    expect(both).toEqual([...a, ...b].sort())
  })
})
