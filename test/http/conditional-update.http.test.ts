import type { Bundle, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'

/** conditional update — https://hl7.org/fhir/R4/http.html#cond-update (PUT [base]/[type]?[search]) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const MRN = 'http://hospital.example.org/mrn'
const mrn = (value: string) => [{ system: MRN, value }]
const put = (tenant: TestTenant, query: string, body: unknown, headers: Record<string, string> = {}) => tenant.request('PUT', `/Patient?${query}`, { body, headers })
const patientCount = async (tenant: TestTenant) => (await tenant.request('GET', '/Patient?_count=0')).json<Bundle>().total

describe('conditional update: one match', () => {
  it('updates the matching resource (200, version 2) when the body has no id', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: mrn('u-1') })
    const res = await put(tenant, `identifier=${MRN}|u-1`, makePatient({ identifier: mrn('u-1'), active: false }))
    expect(res.statusCode, res.body).toBe(200)
    const updated = resourceOf<Patient>(res)
    expect(updated.id).toBe(existing.id)
    expect(updated.active).toBe(false)
    expect(res.headers.etag).toBe('W/"2"')
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${existing.id}/_history/2`)
    expect(await patientCount(tenant)).toBe(1)
  })

  it('updates it when the body id is the matched id', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: mrn('u-2') })
    const res = await put(tenant, `identifier=${MRN}|u-2`, makePatient({ id: existing.id, identifier: mrn('u-2'), gender: 'male' }))
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf<Patient>(res).gender).toBe('male')
  })

  it('answers 400 MSG_RESOURCE_ID_MISMATCH when the body id differs from the match, and changes nothing', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: mrn('u-3') })
    const res = await put(tenant, `identifier=${MRN}|u-3`, makePatient({ id: 'someone-else', identifier: mrn('u-3') }))
    const outcome = expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_ID_MISMATCH' })
    expect(outcome.issue[0]?.diagnostics).toContain(existing.id!)
    expect((await tenant.request('GET', `/Patient/${existing.id}`)).headers.etag).toBe('W/"1"')
  })

  it('honours If-Match on the matched resource (412 for a stale version)', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant, { identifier: mrn('u-4') })
    const stale = await put(tenant, `identifier=${MRN}|u-4`, makePatient({ identifier: mrn('u-4') }), { 'if-match': 'W/"7"' })
    expectOutcome(stale, { status: 412, code: /conflict|processing|invalid/ })
    const fresh = await put(tenant, `identifier=${MRN}|u-4`, makePatient({ identifier: mrn('u-4') }), { 'if-match': 'W/"1"' })
    expect(fresh.statusCode, fresh.body).toBe(200)
  })
})

describe('conditional update: no match', () => {
  it('creates with a server id (201) when the body has no id', async () => {
    const tenant = await t.newTenant()
    const res = await put(tenant, `identifier=${MRN}|n-1`, makePatient({ identifier: mrn('n-1') }))
    expect(res.statusCode, res.body).toBe(201)
    const created = resourceOf<Patient>(res)
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${created.id}/_history/1`)
    // A second identical PUT now finds it and updates instead of creating again.
    const again = await put(tenant, `identifier=${MRN}|n-1`, makePatient({ identifier: mrn('n-1') }))
    expect(again.statusCode, again.body).toBe(200)
    expect(resourceOf(again).id).toBe(created.id)
    expect(await patientCount(tenant)).toBe(1)
  })

  it("creates with the body's id (update as create) when that id is free", async () => {
    const tenant = await t.newTenant()
    const res = await put(tenant, `identifier=${MRN}|n-2`, makePatient({ id: 'chosen-id', identifier: mrn('n-2') }))
    expect(res.statusCode, res.body).toBe(201)
    expect(resourceOf(res).id).toBe('chosen-id')
  })

  it("answers 409 instead of overwriting a live resource with the body's id that the criteria did not select", async () => {
    const tenant = await t.newTenant()
    const other = await createPatient(tenant, { identifier: mrn('other') })
    const res = await put(tenant, `identifier=${MRN}|n-3`, makePatient({ id: other.id, identifier: mrn('n-3') }))
    expectOutcome(res, { status: 409, code: 'conflict', diagnostics: /does not match/ })
    const still = resourceOf<Patient>(await tenant.request('GET', `/Patient/${other.id}`))
    expect(still.identifier?.[0]?.value).toBe('other')
  })

  it('answers 412 when If-Match names a version but nothing matches', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await put(tenant, `identifier=${MRN}|n-4`, makePatient(), { 'if-match': 'W/"1"' }), { status: 412, code: /conflict|processing|invalid/ })
    expect(await patientCount(tenant)).toBe(0)
  })
})

describe('conditional update: several matches and bad criteria', () => {
  it('answers 412 multiple-matches and writes nothing', async () => {
    const tenant = await t.newTenant()
    const a = await createPatient(tenant, { identifier: mrn('same') })
    await createPatient(tenant, { identifier: mrn('same') })
    expectOutcome(await put(tenant, `identifier=${MRN}|same`, makePatient({ active: false })), { status: 412, code: 'multiple-matches' })
    expect(resourceOf<Patient>(await tenant.request('GET', `/Patient/${a.id}`)).active).toBe(true)
  })

  // (app.inject drops a bare trailing `?`, so the empty criteria are sent as a transport parameter only.)
  it('answers 400 for PUT [base]/Patient?_format=json: a query without any search criteria', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    expectOutcome(await tenant.request('PUT', '/Patient?_format=json', { body: makePatient() }), { status: 400, code: 'invalid', diagnostics: /no search criteria/ })
    expect(await patientCount(tenant)).toBe(1)
  })

  it('answers 405 for PUT [base]/Patient with no ? at all (neither an id nor criteria)', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Patient', { body: makePatient() })
    expectOutcome(res, { status: 405, code: 'not-supported', diagnostics: /search criteria/ })
  })

  it('answers 400 naming an unknown parameter (conditional criteria are always strict)', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const outcome = expectOutcome(await put(tenant, 'nickname=ana', makePatient()), { status: 400, code: 'invalid' })
    expect(outcome.issue[0]?.expression).toEqual(['nickname'])
    expect(await patientCount(tenant)).toBe(1)
  })

  it('answers 400 naming a parameter with a malformed value', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await put(tenant, 'birthdate=gt1970-13-45', makePatient()), { status: 400, code: 'invalid' })
    expect(outcome.issue[0]?.expression).toEqual(['birthdate'])
  })

  it('ignores _format beside the criteria (a transport parameter, not a criterion)', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: mrn('f-1') })
    const res = await put(tenant, `identifier=${MRN}|f-1&_format=json`, makePatient({ identifier: mrn('f-1'), gender: 'other' }))
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf(res).id).toBe(existing.id)
  })

  it('never matches another tenant: the same PUT in tenant A creates instead of updating B', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    const theirs = await createPatient(b, { identifier: mrn('x-1') })
    const res = await put(a, `identifier=${MRN}|x-1`, makePatient({ identifier: mrn('x-1'), active: false }))
    expect(res.statusCode, res.body).toBe(201)
    expect(resourceOf(res).id).not.toBe(theirs.id)
    const untouched = await b.request('GET', `/Patient/${theirs.id}`)
    expect(untouched.headers.etag).toBe('W/"1"')
    expect(resourceOf<Patient>(untouched).active).toBe(true)
  })
})

describe('conditional update inside Bundles (the same repository-level interaction)', () => {
  const bundle = (type: 'batch' | 'transaction', entry: unknown[]) => ({ resourceType: 'Bundle', type, entry })
  const putEntry = (query: string, resource: Patient) => ({ resource, request: { method: 'PUT', url: `Patient?${query}` } })

  it('a batch conditional PUT creates on the first run and updates the same resource on the second', async () => {
    const tenant = await t.newTenant()
    const body = bundle('batch', [putEntry(`identifier=${MRN}|bb-1`, makePatient({ identifier: mrn('bb-1') }))])
    const first = await tenant.request('POST', '', { body })
    expect(first.statusCode, first.body).toBe(200)
    const created = first.json<Bundle>().entry?.[0]
    expect(created?.response?.status).toBe('201 Created')
    const second = (await tenant.request('POST', '', { body })).json<Bundle>().entry?.[0]
    expect(second?.response?.status).toBe('200 OK')
    expect(second?.resource?.id).toBe(created?.resource?.id)
    expect(second?.response?.etag).toBe('W/"2"')
    expect(await patientCount(tenant)).toBe(1)
  })

  it("a transaction conditional PUT with no match and the id of a live resource fails with 409 and writes nothing", async () => {
    const tenant = await t.newTenant()
    const other = await createPatient(tenant, { identifier: mrn('live') })
    const res = await tenant.request('POST', '', { body: bundle('transaction', [putEntry(`identifier=${MRN}|bb-2`, makePatient({ id: other.id, identifier: mrn('bb-2') }))]) })
    expectOutcome(res, { status: 409, code: 'conflict', diagnostics: /^Bundle\.entry\[0\].*does not match/ })
    expect((await tenant.request('GET', `/Patient/${other.id}`)).headers.etag).toBe('W/"1"')
  })

  it('a batch conditional PATCH applies to the one match', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant, { identifier: mrn('bb-3') })
    const patch = { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.active' }, { name: 'value', valueBoolean: false }] }] }
    const res = await tenant.request('POST', '', { body: bundle('batch', [{ resource: patch, request: { method: 'PATCH', url: `Patient?identifier=${MRN}|bb-3` } }]) })
    expect(res.statusCode, res.body).toBe(200)
    const entry = res.json<Bundle>().entry?.[0]
    expect(entry?.response?.status).toBe('200 OK')
    expect(resourceOf<Patient>(await tenant.request('GET', `/Patient/${p.id}`)).active).toBe(false)
  })
})
