import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { entriesOf, expectOutcome, resourceOf } from '../setup/outcome.js'

/**
 * conditional read — https://hl7.org/fhir/R4/http.html#cread: If-None-Match and If-Modified-Since.
 * The basic 304/200 cases are in read.http.test.ts; these are the edges.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const FUTURE = 'Fri, 01 Jan 2100 00:00:00 GMT'

describe('conditional read: edges', () => {
  it('answers 304 to If-None-Match: * for any current version', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${p.id}`, { headers: { 'if-none-match': '*' } })
    expect(res.statusCode).toBe(304)
    expect(res.headers.etag).toBe('W/"1"')
  })

  it('answers 304 when any tag of a list is current', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${p.id}`, { headers: { 'if-none-match': 'W/"9", W/"1"' } })
    expect(res.statusCode).toBe(304)
  })

  it('lets If-None-Match decide when both headers are sent (RFC 9110: If-Modified-Since is then ignored)', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${p.id}`, { headers: { 'if-none-match': 'W/"5"', 'if-modified-since': FUTURE } })
    expect(res.statusCode).toBe(200)
    expect(resourceOf<Patient>(res).id).toBe(p.id)
  })

  it('ignores an If-Modified-Since that is not an HTTP date (200, as RFC 9110 asks)', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${p.id}`, { headers: { 'if-modified-since': 'yesterday-ish' } })
    expect(res.statusCode).toBe(200)
  })

  it('answers 200 with the new version once the resource changed after If-Modified-Since', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const before = new Date(Date.parse(p.meta!.lastUpdated!) - 2000).toUTCString()
    await tenant.request('PUT', `/Patient/${p.id}`, { body: { ...p, active: false } })
    const res = await tenant.request('GET', `/Patient/${p.id}`, { headers: { 'if-modified-since': before } })
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('W/"2"')
  })

  it('answers HEAD with 304 too', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await tenant.request('HEAD', `/Patient/${p.id}`, { headers: { 'if-none-match': 'W/"1"' } })
    expect(res.statusCode).toBe(304)
  })

  it('still answers 410 for a deleted resource, whatever the conditional headers', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${p.id}`)
    expectOutcome(await tenant.request('GET', `/Patient/${p.id}`, { headers: { 'if-none-match': '*' } }), { status: 410, code: 'deleted' })
  })

  it('honours ifModifiedSince on a batch GET entry (304 in the entry response)', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await tenant.request('POST', '', {
      body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${p.id}`, ifModifiedSince: '2100-01-01T00:00:00Z' } }] },
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(entriesOf(res)[0]?.response?.status).toMatch(/^304/)
  })
})
