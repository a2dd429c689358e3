import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** update and update-as-create — https://hl7.org/fhir/R4/http.html#update, #concurrency, #ops (Prefer) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


describe('update', () => {
  it('returns 200 with version 2, ETag W/"2", Location of _history/2 and the new content', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, birthDate: '1971-02-03' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('W/"2"')
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${v1.id}/_history/2`)
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
    const v2 = resourceOf<Patient>(res)
    expect(v2).toMatchObject({ id: v1.id, birthDate: '1971-02-03', meta: { versionId: '2' } })
    expect(Date.parse(v2.meta!.lastUpdated!)).toBeGreaterThan(Date.parse(v1.meta!.lastUpdated!))
    expect(res.headers['last-modified']).toBe(new Date(v2.meta!.lastUpdated!).toUTCString())
    expect(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`))).toEqual(v2)
  })

  it('replaces the whole resource: an element left out of the body is gone', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const { birthDate: _dropped, ...rest } = v1
    const v2 = resourceOf<Patient>(await tenant.request('PUT', `/Patient/${v1.id}`, { body: rest }))
    expect(v2.birthDate).toBeUndefined()
    expect(v2.name).toEqual(v1.name)
  })

  it('ignores a client meta.versionId in the body and counts versions itself', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, meta: { versionId: '42' } } })
    expect(res.statusCode).toBe(200)
    expect(resourceOf(res).meta?.versionId).toBe('2')
  })

  it('creates the resource with the client id and answers 201 with version 1 (update-as-create)', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Patient/client-id-1', { body: makePatient({ id: 'client-id-1' }) })
    expect(res.statusCode).toBe(201)
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/client-id-1/_history/1`)
    expect(res.headers.etag).toBe('W/"1"')
    expect(resourceOf(res)).toMatchObject({ id: 'client-id-1', meta: { versionId: '1' } })
    expect((await tenant.request('GET', '/Patient/client-id-1')).statusCode).toBe(200)
  })

  it('accepts a 64-character id of letters, digits, - and . on update-as-create', async () => {
    const tenant = await t.newTenant()
    const id = `A-b.${'9'.repeat(60)}`
    const res = await tenant.request('PUT', `/Patient/${id}`, { body: makePatient({ id }) })
    expect(res.statusCode).toBe(201)
    expect(resourceOf(res).id).toBe(id)
  })

  it('recreates a deleted resource with 201 and the next version number', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    expect((await tenant.request('DELETE', `/Patient/${v1.id}`)).statusCode).toBe(204)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: v1 })
    expect(res.statusCode).toBe(201)
    expect(res.headers.etag).toBe('W/"3"')
    expect((await tenant.request('GET', `/Patient/${v1.id}`)).statusCode).toBe(200)
  })

  it('returns 400 with MSG_RESOURCE_ID_MISMATCH when the body id differs from the URL id', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, id: 'someone-else' } })
    const outcome = expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_ID_MISMATCH' })
    expect(outcome.issue?.[0]?.expression).toEqual(['Patient.id'])
    expect(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`)).meta?.versionId).toBe('1')
  })

  it('returns 400 with MSG_RESOURCE_ID_MISSING when the body has no id', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Patient/no-id-in-body', { body: makePatient() })
    expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_ID_MISSING' })
  })

  it('returns 400 with MSG_RESOURCE_TYPE_MISMATCH when the body is of another type', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Observation/x1', { body: makePatient({ id: 'x1' }) })
    expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_TYPE_MISMATCH' })
  })

  it('returns 400 and keeps the current version when the new content is invalid', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, birthDate: '31/01/1970' } })
    const outcome = expectOutcome(res, { status: 400, code: 'structure' })
    expect(outcome.issue?.[0]?.expression).toEqual(['Patient.birthDate'])
    expect(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`))).toEqual(v1)
  })
})

describe('update with If-Match', () => {
  it('returns 200 when If-Match names the current version', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, active: false }, headers: { 'if-match': 'W/"1"' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('W/"2"')
  })

  it('returns 412 with MSG_VERSION_AWARE_CONFLICT when If-Match names an older version, and writes nothing', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, active: false } })
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, gender: 'other' }, headers: { 'if-match': 'W/"1"' } })
    expectOutcome(res, { status: 412, code: 'conflict', messageId: 'MSG_VERSION_AWARE_CONFLICT', diagnostics: /current version is 2/ })
    const current = resourceOf<Patient>(await tenant.request('GET', `/Patient/${v1.id}`))
    expect(current).toMatchObject({ gender: 'female', active: false, meta: { versionId: '2' } })
  })

  it('returns 412 when If-Match is given for a resource that does not exist', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Patient/not-there', { body: makePatient({ id: 'not-there' }), headers: { 'if-match': 'W/"1"' } })
    expectOutcome(res, { status: 412, code: 'conflict' })
    expect((await tenant.request('GET', '/Patient/not-there')).statusCode).toBe(404)
  })

  it('returns 400 naming If-Match when it is not an ETag', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: v1, headers: { 'if-match': 'W/"1" "2"' } })
    const outcome = expectOutcome(res, { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['If-Match'])
  })
})

describe('update with Prefer: return', () => {
  it('return=minimal answers 200 with ETag, Last-Modified and Location but an empty body', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: v1, headers: { prefer: 'return=minimal' } })
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('')
    expect(res.headers.etag).toBe('W/"2"')
    expect(res.headers['last-modified']).toBeDefined()
    expect(res.headers.location).toMatch(/\/_history\/2$/)
  })

  it('return=representation answers the stored resource', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: v1, headers: { prefer: 'return=representation' } })
    expect(res.statusCode).toBe(200)
    expect(resourceOf(res)).toEqual(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`)))
  })

  it('return=OperationOutcome answers an information OperationOutcome naming the new version', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PUT', `/Patient/${v1.id}`, { body: v1, headers: { prefer: 'return=OperationOutcome' } })
    expectOutcome(res, { status: 200, severity: 'information', code: 'informational', diagnostics: /version 2/ })
    expect(res.headers.etag).toBe('W/"2"')
  })

  it('return=minimal on update-as-create answers 201 with Location and no body', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Patient/minimal-new', { body: makePatient({ id: 'minimal-new' }), headers: { prefer: 'return=minimal' } })
    expect(res.statusCode).toBe(201)
    expect(res.body).toBe('')
    expect(res.headers.location).toMatch(/\/Patient\/minimal-new\/_history\/1$/)
  })
})
