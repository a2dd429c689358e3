import type { Bundle, OperationOutcome } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'

/** conditional delete — https://hl7.org/fhir/R4/http.html#cdelete (DELETE [base]/[type]?[search]; declared `multiple`) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const MRN = 'http://hospital.example.org/mrn'
const mrn = (value: string) => [{ system: MRN, value }]
const count = async (tenant: TestTenant, query: string) => (await tenant.request('GET', `${query}${query.includes('?') ? '&' : '?'}_count=0`)).json<Bundle>().total

describe('conditional delete', () => {
  it('deletes the one match (204, ETag of the deleting version); the resource then reads as 410', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant, { identifier: mrn('d-1') })
    const keep = await createPatient(tenant, { identifier: mrn('d-keep') })
    const res = await tenant.request('DELETE', `/Patient?identifier=${MRN}|d-1`)
    expect(res.statusCode, res.body).toBe(204)
    expect(res.body).toBe('')
    expect(res.headers.etag).toBe('W/"2"')
    expectOutcome(await tenant.request('GET', `/Patient/${p.id}`), { status: 410, code: 'deleted' })
    expect((await tenant.request('GET', `/Patient/${keep.id}`)).statusCode).toBe(200)
  })

  it('answers 204 and deletes nothing when nothing matches', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant, { identifier: mrn('d-2') })
    const res = await tenant.request('DELETE', `/Patient?identifier=${MRN}|nobody`)
    expect(res.statusCode).toBe(204)
    expect(await count(tenant, '/Patient')).toBe(1)
  })

  it('deletes every match (multiple) and reports them under Prefer: return=OperationOutcome', async () => {
    const tenant = await t.newTenant()
    const subject = await createPatient(tenant)
    const made = []
    for (let i = 0; i < 3; i++) {
      const res = await tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${subject.id}` }, status: 'preliminary' }) })
      made.push(res.json<{ id: string }>().id)
    }
    const final = await tenant.request('POST', '/Observation', { body: makeObservation({ subject: { reference: `Patient/${subject.id}` }, status: 'final' }) })
    const res = await tenant.request('DELETE', `/Observation?subject=Patient/${subject.id}&status=preliminary`, { headers: { prefer: 'return=OperationOutcome' } })
    expect(res.statusCode, res.body).toBe(200)
    const diagnostics = res.json<OperationOutcome>().issue[0]?.diagnostics ?? ''
    expect(diagnostics).toMatch(/^Deleted 3 Observation/)
    for (const id of made) expect(diagnostics).toContain(`Observation/${id}`)
    expect(await count(tenant, '/Observation')).toBe(1)
    expect((await tenant.request('GET', `/Observation/${final.json<{ id: string }>().id}`)).statusCode).toBe(200)
  })

  it('refuses with 412 and deletes nothing past the bound of 100 matches', async () => {
    const tenant = await t.newTenant()
    const subject = await createPatient(tenant)
    const entry = Array.from({ length: 101 }, () => ({
      resource: makeObservation({ subject: { reference: `Patient/${subject.id}` } }),
      request: { method: 'POST', url: 'Observation' },
    }))
    const seeded = await tenant.request('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry } })
    expect(seeded.statusCode, seeded.body).toBe(200)
    const res = await tenant.request('DELETE', `/Observation?subject=Patient/${subject.id}`)
    expectOutcome(res, { status: 412, code: 'multiple-matches', diagnostics: /more than 100 Observation/ })
    expect(await count(tenant, '/Observation')).toBe(101)
  })

  it('answers 400 naming an unknown parameter, and deletes nothing', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const outcome = expectOutcome(await tenant.request('DELETE', '/Patient?favourite-colour=blue'), { status: 400, code: 'invalid' })
    expect(outcome.issue[0]?.expression).toEqual(['favourite-colour'])
    expect(await count(tenant, '/Patient')).toBe(1)
  })

  it('answers 400 for a parameter with no value instead of deleting everything', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    expectOutcome(await tenant.request('DELETE', '/Patient?identifier='), { status: 400, code: 'invalid', diagnostics: /identifier has no value/ })
    expect(await count(tenant, '/Patient')).toBe(1)
  })

  it('answers 400 for criteria that are only paging parameters', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    expectOutcome(await tenant.request('DELETE', '/Patient?_count=5'), { status: 400, code: 'invalid', diagnostics: /no search criteria/ })
    expect(await count(tenant, '/Patient')).toBe(1)
  })

  it('never deletes data of another tenant', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    await createPatient(b, { identifier: mrn('cross') })
    expect((await a.request('DELETE', `/Patient?identifier=${MRN}|cross`)).statusCode).toBe(204)
    expect(await count(b, `/Patient?identifier=${MRN}|cross`)).toBe(1)
  })

  it('needs the delete scope: 403 for a read/search-only token', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.rs' })
    expectOutcome(await tenant.request('DELETE', `/Patient?identifier=${MRN}|x`), { status: 403, code: 'forbidden' })
  })
})
