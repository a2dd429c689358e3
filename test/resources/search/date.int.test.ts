import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Observation } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

/** date parameters — https://hl7.org/fhir/R4/search.html#date */
describe('search: date parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const at = (effective: Partial<Observation>): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    ...effective,
  })
  const dates = (scope: { tenantId: string }) =>
    seed(f.repo, scope, [
      at({ effectiveDateTime: '2024-03-05T10:00:00Z' }), // 0
      at({ effectiveDateTime: '2024-12-31T23:59:59.999Z' }), // 1
      at({ effectiveDateTime: '2025-01-01T00:00:00Z' }), // 2
      at({ effectiveDateTime: '2023-12-31T23:59:59Z' }), // 3
      at({ effectiveDateTime: '2024-12-31T22:00:00-03:00' }), // 4: 2025-01-01T01:00Z
      at({}), // 5: no date
    ])

  it('matches any instant inside the precision of the value: date=2024 is all of 2024 (UTC)', async () => {
    const scope = await f.newTenant()
    const ids = await dates(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-03')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-03-05')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-03-05T10:00:00Z')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2025')).toEqual(pick(ids, 2, 4))
  })

  it('respects time zones on both the stored value and the search value', async () => {
    const scope = await f.newTenant()
    const ids = await dates(scope)
    // 2024-12-31T22:00-03:00 is 2025-01-01T01:00Z: in 2025, not in 2024.
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2025-01-01')).toEqual(pick(ids, 2, 4))
    expect(await matchIds(f.repo, scope, 'Observation', `date=${encodeURIComponent('2024-12-31T22:00:00-03:00')}`)).toEqual(pick(ids, 4))
    expect(await matchIds(f.repo, scope, 'Observation', `date=${encodeURIComponent('2024-12-31T20:59:59.999-03:00')}`)).toEqual(pick(ids, 1))
  })

  it('applies gt, lt, ge, le and ne against the precision range', async () => {
    const scope = await f.newTenant()
    const ids = await dates(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'date=gt2024')).toEqual(pick(ids, 2, 4))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ge2024')).toEqual(pick(ids, 0, 1, 2, 4))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=lt2024')).toEqual(pick(ids, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=le2024')).toEqual(pick(ids, 0, 1, 3))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ne2024')).toEqual(pick(ids, 2, 3, 4))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ge2024-03-05&date=lt2025')).toEqual(pick(ids, 0, 1))
  })

  it('treats a Period as a range: eq needs containment, sa/eb need no overlap, ap needs overlap', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      at({ effectivePeriod: { start: '2024-01-10', end: '2024-01-20' } }), // 0
      at({ effectivePeriod: { start: '2024-02-01' } }), // 1: open end
      at({ effectivePeriod: { end: '2023-06-01' } }), // 2: open start
    ])
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-01')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-01-15')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'date=sa2024-01-09')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=sa2024-01-10')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=eb2024-01-21')).toEqual(pick(ids, 0, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=eb2024-01-20')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=gt2030')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=lt1900')).toEqual(pick(ids, 2))
    // ap widens the day by 10% of its distance to now (months, in 2025+): it reaches the open Period too.
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ap2024-01-15')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ap1990-01-01')).toEqual(pick(ids, 2))
  })

  it('matches a Timing by its outer limits (events and bounds), and a date of year precision as its whole year', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [
      at({ effectiveTiming: { event: ['2024-05-01T10:00:00Z', '2024-06-01T10:00:00Z'] } }),
      at({ effectiveTiming: { event: ['2024-05-10'], repeat: { boundsPeriod: { start: '2024-05-01', end: '2024-08-31' } } } }),
    ])
    // "The specified scheduling details are ignored and only the outer limits matter" (R4 search, date).
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-06')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ge2024-05-20')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=lt2024-05-02')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=gt2024-07-01')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=sa2024-06-15')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'date=2024-07')).toEqual([])
    const patients = await seed(f.repo, scope, [{ resourceType: 'Patient', birthDate: '1970' }, { resourceType: 'Patient', birthDate: '1970-06-01' }])
    expect(await matchIds(f.repo, scope, 'Patient', 'birthdate=1970')).toEqual(pick(patients, 0, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'birthdate=1970-06-01')).toEqual(pick(patients, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'birthdate=ge1970-06-01')).toEqual(pick(patients, 0, 1))
    expect(await matchIds(f.repo, scope, 'Patient', 'birthdate=sa1970-05-31')).toEqual(pick(patients, 1))
  })

  it('tests repeated clauses of a one-row date parameter on that row, and of a repeating one on any rows', async () => {
    const scope = await f.newTenant()
    const obs = await seed(f.repo, scope, [
      at({ effectiveDateTime: '2020-06-15' }), // 0
      at({ effectivePeriod: { start: '2019-01-01', end: '2021-12-31' } }), // 1
      at({ effectiveDateTime: '2018-02-01' }), // 2
    ])
    // Observation.date is effective[x] (0..1): one row per Observation.
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ge2020-01-01&date=lt2021-01-01')).toEqual(pick(obs, 0, 1))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ge2020-01-01,lt2018-06-01&date=lt2021-01-01')).toEqual(pick(obs, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'Observation', 'date=gt2022-01-01&date=lt2018-06-01')).toEqual([])
    expect(await matchIds(f.repo, scope, 'Observation', 'date=ge2020-01-01&date=lt2021-01-01&date=ne2020-06-15')).toEqual(pick(obs, 1))
    // Encounter.location.period repeats: each clause may hold on a different location.
    const [enc] = await seed(f.repo, scope, [
      {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        location: [
          { location: { reference: 'Location/a' }, period: { start: '2020-01-01', end: '2020-01-31' } },
          { location: { reference: 'Location/b' }, period: { start: '2020-06-01', end: '2020-06-30' } },
        ],
      },
    ])
    expect(await matchIds(f.repo, scope, 'Encounter', 'location-period=lt2020-02-15&location-period=gt2020-05-15')).toEqual([enc])
    expect(await matchIds(f.repo, scope, 'Encounter', 'location-period=lt2020-01-01&location-period=gt2020-05-15')).toEqual([])
  })

  it('finds resources without the element through :missing', async () => {
    const scope = await f.newTenant()
    const ids = await dates(scope)
    expect(await matchIds(f.repo, scope, 'Observation', 'date:missing=true')).toEqual(pick(ids, 5))
  })

  it('rejects a malformed date or prefix with invalid naming the parameter', async () => {
    const scope = await f.newTenant()
    for (const bad of ['date=2024-13', 'date=xx2024', 'date=2024-02-30', "date=2024'--", 'date=gt']) {
      const error = await search(f.repo, scope, 'Observation', bad).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression).toEqual(['date'])
    }
  })
})
