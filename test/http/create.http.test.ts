import type { Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'

/** create — https://hl7.org/fhir/R4/http.html#create */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

describe('create', () => {
  it('returns 201 with Location, ETag W/"1", Last-Modified and the stored Patient', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient() })
    expect(res.statusCode).toBe(201)
    const patient = resourceOf<Patient>(res)
    expect(patient.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/)
    expect(patient.meta?.versionId).toBe('1')
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${patient.id}/_history/1`)
    expect(res.headers.etag).toBe('W/"1"')
    expect(res.headers['last-modified']).toBe(new Date(patient.meta!.lastUpdated!).toUTCString())
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
    expect(patient).toMatchObject({ name: [{ family: 'García', given: ['Ana'] }], birthDate: '1970-01-31', gender: 'female' })
  })

  it('ignores a client id in the body and assigns its own', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient({ id: 'client-chosen' }) })
    expect(res.statusCode).toBe(201)
    const id = resourceOf(res).id
    expect(id).not.toBe('client-chosen')
    expect((await tenant.request('GET', '/Patient/client-chosen')).statusCode).toBe(404)
    expect((await tenant.request('GET', `/Patient/${id}`)).statusCode).toBe(200)
  })

  it('replaces a client meta.versionId and meta.lastUpdated but keeps meta.profile and meta.tag', async () => {
    const tenant = await t.newTenant()
    const tag = { system: 'http://example.org/tags', code: 'vip' }
    const profile = ['http://hl7.org/fhir/StructureDefinition/Patient']
    const body = makePatient({ meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z', tag: [tag], profile } })
    const patient = resourceOf<Patient>(await tenant.request('POST', '/Patient', { body }))
    expect(patient.meta?.versionId).toBe('1')
    expect(patient.meta?.lastUpdated).not.toBe('2001-01-01T00:00:00Z')
    expect(Date.now() - Date.parse(patient.meta!.lastUpdated!)).toBeLessThan(60_000)
    expect(patient.meta?.tag).toEqual([tag])
    expect(patient.meta?.profile).toEqual(profile)
  })

  it('gives every create its own id', async () => {
    const tenant = await t.newTenant()
    const ids = await Promise.all(
      Array.from({ length: 5 }, async () => resourceOf(await tenant.request('POST', '/Observation', { body: makeObservation() })).id),
    )
    expect(new Set(ids).size).toBe(5)
  })

  it('creates a resource of a type other than Patient with the body as sent', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Observation', { body: makeObservation({ valueQuantity: { value: 1.5, unit: 'mmol/L' } }) })
    expect(res.statusCode).toBe(201)
    const observation = resourceOf<Observation>(res)
    expect(observation.valueQuantity).toEqual({ value: 1.5, unit: 'mmol/L' })
    expect(res.headers.location).toMatch(new RegExp(`/Observation/${observation.id}/_history/1$`))
  })

  it('answers Prefer: return=minimal with 201, Location and ETag but no body', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient(), headers: { prefer: 'return=minimal' } })
    expect(res.statusCode).toBe(201)
    expect(res.body).toBe('')
    expect(res.headers.location).toMatch(/\/Patient\/[^/]+\/_history\/1$/)
    expect(res.headers.etag).toBe('W/"1"')
  })

  it('answers Prefer: return=OperationOutcome with 201 and an information OperationOutcome', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient(), headers: { prefer: 'return=OperationOutcome' } })
    expectOutcome(res, { status: 201, severity: 'information', code: 'informational', diagnostics: /created/ })
    expect(res.headers.location).toMatch(/\/Patient\/[^/]+\/_history\/1$/)
  })

  it('returns 400 with MSG_RESOURCE_TYPE_MISMATCH when the body is an Observation posted to /Patient', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makeObservation() })
    const outcome = expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_TYPE_MISMATCH', diagnostics: /Observation.*Patient/ })
    expect(outcome.issue?.[0]?.expression).toEqual(['resourceType'])
  })

  it('returns 400 when the body has no resourceType', async () => {
    const tenant = await t.newTenant()
    const { resourceType: _omit, ...body } = makePatient()
    expectOutcome(await tenant.request('POST', '/Patient', { body }), { status: 400, code: 'invalid', diagnostics: /resourceType/ })
  })

  it('returns 400 when the body is empty', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: '', headers: { 'content-type': 'application/fhir+json' } })
    expectOutcome(res, { status: 400, code: 'required', diagnostics: /Patient resource/ })
  })

  it('returns 400 when the body is a JSON array', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('POST', '/Patient', { body: [makePatient()] }), { status: 400, code: 'structure' })
  })

  it('returns 400 "structure" for an element the Patient type does not have, naming it in expression', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: { ...makePatient(), favouriteColour: 'blue' } })
    const outcome = expectOutcome(res, { status: 400, code: 'structure', diagnostics: /favouriteColour/ })
    expect(outcome.issue?.[0]?.expression).toEqual(['Patient.favouriteColour'])
  })

  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    it(`returns 400 for an unknown element named ${name}, like any other unknown element`, async () => {
      const tenant = await t.newTenant()
      const res = await tenant.request('POST', '/Patient', { body: { ...makePatient(), [name]: 'x' } })
      const outcome = expectOutcome(res, { status: 400, code: 'structure' })
      expect(outcome.issue?.[0]?.expression).toEqual([`Patient.${name}`])
    })
  }

  it('stores nothing when validation fails', async () => {
    const tenant = await t.newTenant()
    expect((await tenant.request('POST', '/Patient', { body: makePatient({ birthDate: 'yesterday' }) })).statusCode).toBe(400)
    const history = await tenant.request('GET', '/Patient/_history')
    expect(history.json().total).toBe(0)
  })
})
