import type { DiagnosticReport, Observation, Patient, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../../setup/app.js'
import { containedPatient, create, fullUrls, observationWith, searchset, urlOf } from './contained-fixture.js'

/**
 * Chains into contained resources (https://hl7.org/fhir/R4/search.html#contained: "a chained
 * condition will be evaluated inside contained resources"): a `#id` reference is followed into the
 * referring resource's own contained resource, with or without `_contained`.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function world(tenant: TestTenant) {
  const realTaylor = await create(tenant, { resourceType: 'Patient', name: [{ family: 'Taylor', given: ['Real'] }] } as Patient)
  const practitioner = { resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'Taylor' }] } as Resource
  const viaContained = await create(tenant, observationWith(containedPatient('p1', 'Taylor'), { practitioner }) as Observation)
  const otherContained = await create(tenant, observationWith(containedPatient('p1', 'Other')) as Observation)
  const viaReal = await create(tenant, { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${realTaylor.id}` } } as Observation)
  // The contained Patient is named Taylor, but the subject is a real Patient named Elsewhere: no match.
  const realOther = await create(tenant, { resourceType: 'Patient', name: [{ family: 'Elsewhere' }] } as Patient)
  const unreferenced = await create(tenant, {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'x' },
    contained: [containedPatient('p9', 'Taylor')],
    subject: { reference: `Patient/${realOther.id}` },
    focus: [{ reference: '#p9' }],
  } as Observation)
  return { realTaylor, viaContained, otherContained, viaReal, unreferenced }
}

describe('search: chains into contained resources', () => {
  it('follows a #id subject into the contained Patient, alongside real targets', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    const expected = [urlOf(tenant, w.viaContained), urlOf(tenant, w.viaReal)].sort()
    for (const query of ['subject.name=Taylor', 'subject:Patient.family=Taylor', 'patient.name=taylor', 'subject:Patient.family:exact=Taylor']) {
      expect(fullUrls(await searchset(tenant, `/Observation?${query}`)), query).toEqual(expected)
    }
    expect(fullUrls(await searchset(tenant, '/Observation?subject.name=Other'))).toEqual([urlOf(tenant, w.otherContained)])
    expect(fullUrls(await searchset(tenant, '/Observation?performer:Practitioner.family=Taylor'))).toEqual([urlOf(tenant, w.viaContained)])
    expect(fullUrls(await searchset(tenant, '/Observation?subject:Patient._id=p1'))).toEqual([urlOf(tenant, w.viaContained), urlOf(tenant, w.otherContained)].sort())
    // Another reference (focus) to a contained Patient is not the subject.
    expect(fullUrls(await searchset(tenant, '/Observation?focus:Patient.family=Taylor'))).toEqual([urlOf(tenant, w.unreferenced)])
  })

  it('ANDs a chain with other criteria and stops following a contained resource the update removed', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    expect(fullUrls(await searchset(tenant, '/Observation?subject.name=Taylor&code=http://loinc.org|8867-4'))).toEqual([urlOf(tenant, w.viaContained)])
    const { contained: _, performer: __, ...rest } = w.viaContained
    const put = await tenant.request('PUT', `/Observation/${w.viaContained.id}`, { body: { ...rest, subject: { reference: `Patient/${w.realTaylor.id}` } } })
    expect(put.statusCode, put.body).toBe(200)
    expect(fullUrls(await searchset(tenant, '/Observation?performer.family=Taylor'))).toEqual([])
    expect(fullUrls(await searchset(tenant, '/Observation?subject:Patient._id=p1'))).toEqual([urlOf(tenant, w.otherContained)])
  })

  it('chains from a contained resource into a sibling and into real resources with _contained=true', async () => {
    const tenant = await t.newTenant()
    const real = await create(tenant, { resourceType: 'Patient', name: [{ family: 'Realm' }] } as Patient)
    const report = await create(tenant, {
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'panel' },
      contained: [
        { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'a' }, subject: { reference: '#p1' } },
        { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'b' }, subject: { reference: `Patient/${real.id}` } },
        containedPatient('p1', 'Sibling'),
      ],
      subject: { reference: '#p1' },
      result: [{ reference: '#o1' }, { reference: '#o2' }],
    } as DiagnosticReport)
    expect(fullUrls(await searchset(tenant, '/Observation?subject.family=Sibling&_contained=true'))).toEqual([urlOf(tenant, report)])
    expect(fullUrls(await searchset(tenant, '/Observation?subject.family=Sibling&_contained=true&_containedType=contained'))).toEqual([urlOf(tenant, report, 'o1')])
    expect(fullUrls(await searchset(tenant, '/Observation?subject.family=Realm&_contained=true&_containedType=contained'))).toEqual([urlOf(tenant, report, 'o2')])
    expect(fullUrls(await searchset(tenant, '/Observation?subject.family=Realm'))).toEqual([])
    // From the report itself: its result chain reaches the contained Observations.
    expect(fullUrls(await searchset(tenant, '/DiagnosticReport?result.code:text=b'))).toEqual([urlOf(tenant, report)])
    expect(fullUrls(await searchset(tenant, '/DiagnosticReport?result.subject:Patient.family=Realm'))).toEqual([urlOf(tenant, report)])
  })

  it('does not follow a #id reference to an id the resource does not contain', async () => {
    const tenant = await t.newTenant()
    const dangling = await create(tenant, { resourceType: 'Observation', status: 'final', code: { text: 'x' }, contained: [containedPatient('p1', 'Taylor')], subject: { reference: '#p1' }, focus: [{ reference: '#p2' }] } as Observation)
    expect(fullUrls(await searchset(tenant, '/Observation?focus:Patient.family=Taylor'))).toEqual([])
    expect(fullUrls(await searchset(tenant, '/Observation?subject:Patient.family=Taylor'))).toEqual([urlOf(tenant, dangling)])
  })
})
