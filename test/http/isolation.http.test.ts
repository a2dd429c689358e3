import type { Bundle, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** Tenant isolation: each tenant is its own FHIR base (/fhir/{tenant}); nothing crosses between them. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


const ids = (bundle: Bundle) => (bundle.entry ?? []).map((e) => e.resource?.id)

describe('tenant isolation', () => {
  for (const direction of ['A → B', 'B → A'] as const) {
    it(`hides a Patient from the other tenant on read, vread, instance history, $validate and search (${direction})`, async () => {
      const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
      const [owner, other] = direction === 'A → B' ? [a, b] : [b, a]
      const patient = await createPatient(owner)
      expectOutcome(await other.request('GET', `/Patient/${patient.id}`), { status: 404, code: 'not-found' })
      expectOutcome(await other.request('GET', `/Patient/${patient.id}/_history/1`), { status: 404, code: 'not-found' })
      expectOutcome(await other.request('GET', `/Patient/${patient.id}/_history`), { status: 404, code: 'not-found' })
      expectOutcome(await other.request('POST', `/Patient/${patient.id}/$validate`), { status: 404, code: 'not-found' })
      const search = await other.request('GET', `/Patient?_id=${patient.id}`)
      expect(search.statusCode).toBe(200)
      expect(resourceOf<Bundle>(search).total).toBe(0)
      expect(resourceOf<Bundle>(search).entry).toBeUndefined()
    })
  }

  it("returns 404 on a patch in tenant B of tenant A's Patient and leaves it unchanged", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const patient = await createPatient(a)
    const res = await b.request('PATCH', `/Patient/${patient.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'replace', path: '/active', value: false }],
    })
    expectOutcome(res, { status: 404, code: 'not-found' })
    expect(resourceOf(await a.request('GET', `/Patient/${patient.id}`))).toEqual(patient)
  })

  it("does not delete tenant A's Patient when tenant B deletes the same id", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const patient = await createPatient(a)
    expect((await b.request('DELETE', `/Patient/${patient.id}`)).statusCode).toBe(204)
    expect(resourceOf(await a.request('GET', `/Patient/${patient.id}`))).toEqual(patient)
  })

  it("creates a separate resource when tenant B PUTs tenant A's id, and A's stays unchanged", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const original = await createPatient(a, { birthDate: '1950-01-01' })
    const res = await b.request('PUT', `/Patient/${original.id}`, { body: { ...makePatient({ birthDate: '2000-12-31' }), id: original.id } })
    expect(res.statusCode).toBe(201)
    expect(res.headers.etag).toBe('W/"1"')
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${b.tenantId}/Patient/${original.id}/_history/1`)

    expect(resourceOf(await a.request('GET', `/Patient/${original.id}`))).toEqual(original)
    expect(resourceOf<Patient>(await b.request('GET', `/Patient/${original.id}`)).birthDate).toBe('2000-12-31')
    const historyOfA = resourceOf<Bundle>(await a.request('GET', `/Patient/${original.id}/_history`))
    const historyOfB = resourceOf<Bundle>(await b.request('GET', `/Patient/${original.id}/_history`))
    expect(historyOfA.entry?.map((e) => (e.resource as Patient).birthDate)).toEqual(['1950-01-01'])
    expect(historyOfB.entry?.map((e) => (e.resource as Patient).birthDate)).toEqual(['2000-12-31'])
  })

  it("keeps tenant A's versions out of tenant B's type and system history, and the reverse", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const ofA = await createPatient(a)
    await a.request('PUT', `/Patient/${ofA.id}`, { body: { ...ofA, active: false } })
    const ofB = await createPatient(b)

    const typeB = resourceOf<Bundle>(await b.request('GET', '/Patient/_history'))
    expect(ids(typeB)).toEqual([ofB.id])
    const systemB = resourceOf<Bundle>(await b.request('GET', '/_history'))
    expect(ids(systemB)).not.toContain(ofA.id)
    expect(systemB.entry?.map((e) => e.fullUrl?.startsWith(`http://fhir.test/fhir/${b.tenantId}/`))).not.toContain(false)

    const typeA = resourceOf<Bundle>(await a.request('GET', '/Patient/_history'))
    expect(ids(typeA)).toEqual([ofA.id, ofA.id])
    expect(ids(resourceOf<Bundle>(await a.request('GET', '/_history')))).not.toContain(ofB.id)
  })

  it("lists only the tenant's own resources in a type search", async () => {
    const [a, b] = await Promise.all([t.newTenant(), t.newTenant()])
    const ofA = await createPatient(a)
    const ofB = await createPatient(b)
    expect(ids(resourceOf<Bundle>(await a.request('GET', '/Patient')))).toEqual([ofA.id])
    expect(ids(resourceOf<Bundle>(await b.request('GET', '/Patient')))).toEqual([ofB.id])
  })

  it("uses each tenant's own base URL in Location and Bundle links", async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient() })
    expect(res.headers.location).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/Patient/`))
    const bundle = resourceOf<Bundle>(await tenant.request('GET', '/Patient/_history'))
    for (const link of bundle.link ?? []) expect(link.url).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/`))
  })
})
