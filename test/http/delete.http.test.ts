import type { Bundle, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** delete — https://hl7.org/fhir/R4/http.html#delete */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


describe('delete', () => {
  it('returns 204 with no body and the ETag of the deleting version', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('DELETE', `/Patient/${v1.id}`)
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expect(res.headers.etag).toBe('W/"2"')
  })

  it('returns 410 with ETag, Last-Modified and MSG_DELETED_ID when the Patient is read after it is deleted', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${v1.id}`)
    const res = await tenant.request('GET', `/Patient/${v1.id}`)
    expectOutcome(res, { status: 410, code: 'deleted', messageId: 'MSG_DELETED_ID', diagnostics: new RegExp(`Patient/${v1.id}`) })
    expect(res.headers.etag).toBe('W/"2"')
    expect(Date.parse(String(res.headers['last-modified']))).toBeGreaterThanOrEqual(Math.floor(Date.parse(v1.meta!.lastUpdated!) / 1000) * 1000)
  })

  it('keeps the delete in the instance history, newest first, without a resource', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${v1.id}`)
    const res = await tenant.request('GET', `/Patient/${v1.id}/_history`)
    expect(res.statusCode).toBe(200)
    const bundle = resourceOf<Bundle>(res)
    expect(bundle.total).toBe(2)
    const [deleted, created] = bundle.entry ?? []
    expect(deleted?.request).toEqual({ method: 'DELETE', url: `Patient/${v1.id}` })
    expect(deleted?.response?.etag).toBe('W/"2"')
    expect(deleted?.resource).toBeUndefined()
    expect(created?.request?.method).toBe('POST')
    expect(created?.resource).toEqual(v1)
  })

  it('keeps earlier versions readable with vread after the delete', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${v1.id}`)
    const res = await tenant.request('GET', `/Patient/${v1.id}/_history/1`)
    expect(res.statusCode).toBe(200)
    expect(resourceOf(res)).toEqual(v1)
  })

  it('returns 204 for an id that never existed', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('DELETE', '/Patient/never-existed')
    expect(res.statusCode).toBe(204)
    expect(res.headers.etag).toBeUndefined()
    expect((await tenant.request('GET', '/Patient/never-existed')).statusCode).toBe(404)
  })

  it('returns 204 for an already deleted resource and adds no version', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${v1.id}`)
    const again = await tenant.request('DELETE', `/Patient/${v1.id}`)
    expect(again.statusCode).toBe(204)
    expect(resourceOf<Bundle>(await tenant.request('GET', `/Patient/${v1.id}/_history`)).total).toBe(2)
  })

  it('deletes when If-Match names the current version', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('DELETE', `/Patient/${v1.id}`, { headers: { 'if-match': 'W/"1"' } })
    expect(res.statusCode).toBe(204)
    expect((await tenant.request('GET', `/Patient/${v1.id}`)).statusCode).toBe(410)
  })

  it('returns 412 with MSG_VERSION_AWARE_CONFLICT when If-Match names an older version, and keeps the resource', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('PUT', `/Patient/${v1.id}`, { body: { ...v1, active: false } })
    const res = await tenant.request('DELETE', `/Patient/${v1.id}`, { headers: { 'if-match': 'W/"1"' } })
    expectOutcome(res, { status: 412, code: 'conflict', messageId: 'MSG_VERSION_AWARE_CONFLICT' })
    expect((await tenant.request('GET', `/Patient/${v1.id}`)).statusCode).toBe(200)
  })

  it('leaves the deleted resource out of search results', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${v1.id}`)
    const res = await tenant.request('GET', `/Patient?_id=${v1.id}`)
    expect(res.statusCode).toBe(200)
    expect(resourceOf<Bundle>(res).total).toBe(0)
  })

  it('returns 400 with MSG_ID_INVALID for an invalid id', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('DELETE', '/Patient/bad_id!'), { status: 400, code: 'invalid', messageId: 'MSG_ID_INVALID' })
  })
})
