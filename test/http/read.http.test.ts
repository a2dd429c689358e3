import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** read, vread and conditional read — https://hl7.org/fhir/R4/http.html#read, #vread, #cread */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }
const NARRATIVE = { status: 'generated' as const, div: '<div xmlns="http://www.w3.org/1999/xhtml">Ana García</div>' }

let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


describe('read', () => {
  it('returns 200 with the stored Patient, ETag, Last-Modified and FHIR JSON content type', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}`)
    expect(res.statusCode).toBe(200)
    expect(resourceOf(res)).toEqual(created)
    expect(res.headers.etag).toBe('W/"1"')
    expect(res.headers['last-modified']).toBe(new Date(created.meta!.lastUpdated!).toUTCString())
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
  })

  it('returns 404 with MSG_NO_EXIST for an id that was never created', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/Patient/never-created'), { status: 404, code: 'not-found', messageId: 'MSG_NO_EXIST' })
  })

  it('returns 404 when the id exists only under another resource type', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    expectOutcome(await tenant.request('GET', `/Observation/${created.id}`), { status: 404, code: 'not-found' })
  })

  it('returns 400 with MSG_ID_INVALID for an id longer than 64 characters', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', `/Patient/${'a'.repeat(65)}`), { status: 400, code: 'invalid', messageId: 'MSG_ID_INVALID' })
  })
})

describe('vread', () => {
  it('returns each version as it was, with that version in ETag', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const put = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, birthDate: '1980-02-02' } })
    expect(put.statusCode).toBe(200)
    const r1 = await tenant.request('GET', `/Patient/${v1.id}/_history/1`)
    expect(r1.statusCode).toBe(200)
    expect(r1.headers.etag).toBe('W/"1"')
    expect(resourceOf<Patient>(r1)).toEqual(v1)
    const r2 = await tenant.request('GET', `/Patient/${v1.id}/_history/2`)
    expect(r2.headers.etag).toBe('W/"2"')
    expect(resourceOf<Patient>(r2)).toMatchObject({ birthDate: '1980-02-02', meta: { versionId: '2' } })
  })

  it('returns 404 for a version that does not exist yet', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    expectOutcome(await tenant.request('GET', `/Patient/${created.id}/_history/2`), { status: 404, code: 'not-found' })
  })

  it('returns 404 for a version id that is not a number', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    expectOutcome(await tenant.request('GET', `/Patient/${created.id}/_history/abc`), { status: 404, code: 'not-found' })
  })

  it('returns 410 with ETag for the version that deleted the resource, and 200 for the version before', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    expect((await tenant.request('DELETE', `/Patient/${created.id}`)).statusCode).toBe(204)
    const res = await tenant.request('GET', `/Patient/${created.id}/_history/2`)
    expectOutcome(res, { status: 410, code: 'deleted', messageId: 'MSG_DELETED_ID' })
    expect(res.headers.etag).toBe('W/"2"')
    expect((await tenant.request('GET', `/Patient/${created.id}/_history/1`)).statusCode).toBe(200)
  })
})

describe('conditional read', () => {
  it('returns 304 without a body when If-None-Match names the current version', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}`, { headers: { 'if-none-match': 'W/"1"' } })
    expect(res.statusCode).toBe(304)
    expect(res.body).toBe('')
    expect(res.headers.etag).toBe('W/"1"')
  })

  it('returns 200 when If-None-Match names an older version', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    await tenant.request('PUT', `/Patient/${created.id}`, { body: { ...created, active: false } })
    const res = await tenant.request('GET', `/Patient/${created.id}`, { headers: { 'if-none-match': 'W/"1"' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('W/"2"')
    expect(resourceOf<Patient>(res).active).toBe(false)
  })

  it('returns 304 when If-Modified-Since is at or after Last-Modified', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const first = await tenant.request('GET', `/Patient/${created.id}`)
    const lastModified = String(first.headers['last-modified'])
    const res = await tenant.request('GET', `/Patient/${created.id}`, { headers: { 'if-modified-since': lastModified } })
    expect(res.statusCode).toBe(304)
    expect(res.headers['last-modified']).toBe(lastModified)
  })

  it('returns 200 when If-Modified-Since is before Last-Modified', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}`, { headers: { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' } })
    expect(res.statusCode).toBe(200)
    expect(resourceOf(res).id).toBe(created.id)
  })
})

describe('read with _summary and _elements', () => {
  it('_summary=true keeps the summary elements, drops text and tags the result SUBSETTED', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant, { text: NARRATIVE, photo: [{ contentType: 'image/png', data: 'AAAA' }] })
    const res = await tenant.request('GET', `/Patient/${created.id}?_summary=true`)
    expect(res.statusCode).toBe(200)
    const patient = resourceOf<Patient>(res)
    expect(patient).toMatchObject({ id: created.id, name: created.name, birthDate: '1970-01-31', gender: 'female', active: true })
    expect(patient.text).toBeUndefined()
    expect(patient.photo).toBeUndefined()
    expect(patient.meta?.tag).toContainEqual(SUBSETTED)
  })

  it('_summary=text returns only id, meta and the narrative', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant, { text: NARRATIVE })
    const patient = resourceOf<Patient>(await tenant.request('GET', `/Patient/${created.id}?_summary=text`))
    expect(Object.keys(patient).sort()).toEqual(['id', 'meta', 'resourceType', 'text'])
    expect(patient.text).toEqual(NARRATIVE)
    expect(patient.meta?.tag).toContainEqual(SUBSETTED)
  })

  it('_summary=data returns everything but the narrative', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant, { text: NARRATIVE })
    const patient = resourceOf<Patient>(await tenant.request('GET', `/Patient/${created.id}?_summary=data`))
    expect(patient.text).toBeUndefined()
    expect(patient).toMatchObject({ name: created.name, birthDate: created.birthDate })
  })

  it('_summary=false returns the full resource untagged', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant, { text: NARRATIVE })
    expect(resourceOf(await tenant.request('GET', `/Patient/${created.id}?_summary=false`))).toEqual(created)
  })

  it('_elements=birthDate returns id, meta and birthDate only, tagged SUBSETTED', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const patient = resourceOf<Patient>(await tenant.request('GET', `/Patient/${created.id}?_elements=birthDate`))
    expect(Object.keys(patient).sort()).toEqual(['birthDate', 'id', 'meta', 'resourceType'])
    expect(patient.birthDate).toBe('1970-01-31')
    expect(patient.meta?.tag).toContainEqual(SUBSETTED)
  })

  it('_elements with a comma-separated list keeps each listed element', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const patient = resourceOf<Patient>(await tenant.request('GET', `/Patient/${created.id}?_elements=gender,name`))
    expect(patient).toMatchObject({ gender: 'female', name: created.name })
    expect(patient.birthDate).toBeUndefined()
  })

  it('returns 400 for an unknown _summary value', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const outcome = expectOutcome(await tenant.request('GET', `/Patient/${created.id}?_summary=everything`), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['_summary'])
  })
})

describe('read with _format and _pretty', () => {
  it('_format=json answers application/fhir+json', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}?_format=json`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
  })

  it('_format=application/json answers application/json even when Accept asks for FHIR JSON', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}?_format=${encodeURIComponent('application/json')}`, {
      headers: { accept: 'application/fhir+json' },
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(resourceOf(res)).toEqual(created)
  })

  it('Accept: application/json answers application/json', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}`, { headers: { accept: 'application/json' } })
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
  })

  it('_pretty=true indents the JSON and keeps the content', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${created.id}?_pretty=true`)
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('\n  "resourceType": "Patient"')
    expect(resourceOf(res)).toEqual(created)
  })

  it('answers without _pretty on a single line', async () => {
    const tenant = await t.newTenant()
    const created = await createPatient(tenant)
    expect((await tenant.request('GET', `/Patient/${created.id}`)).body).not.toContain('\n')
  })
})
