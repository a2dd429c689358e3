import type { Bundle, BundleEntry, Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf, expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** batch — https://hl7.org/fhir/R4/http.html#transaction (batch: each entry on its own) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const batch = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'batch', entry })
const post = (resource: BundleEntry['resource'], request: Partial<NonNullable<BundleEntry['request']>> = {}): BundleEntry => ({
  resource,
  request: { method: 'POST', url: resource!.resourceType, ...request },
})
const send = (tenant: TestTenant, bundle: unknown, headers: Record<string, string> = {}) => tenant.request('POST', '', { body: bundle, headers })


const patientCount = async (tenant: TestTenant) => (await tenant.request('GET', '/Patient?_count=0')).json<Bundle>().total

describe('batch', () => {
  it('answers 200 with a batch-response holding each entry status, location, etag and lastModified, in request order', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, batch([
      { request: { method: 'GET', url: `Patient/${p.id}` } },
      post(makePatient()),
      { resource: { ...p, active: false }, request: { method: 'PUT', url: `Patient/${p.id}` } },
      { request: { method: 'GET', url: `Patient/${p.id}/_history/1` } },
      { request: { method: 'DELETE', url: 'Patient/never-existed' } },
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const bundle = resourceOf<Bundle>(res)
    expect(bundle.type).toBe('batch-response')
    const [read, created, updated, vread, deleted] = bundle.entry ?? []
    expect(read?.response).toMatchObject({ status: '200 OK', etag: 'W/"2"' })
    expect(created?.response).toMatchObject({ status: '201 Created', etag: 'W/"1"' })
    expect(created?.response?.location).toBe(`${created?.fullUrl}/_history/1`)
    expect(created?.response?.lastModified).toBe(created?.resource?.meta?.lastUpdated)
    expect(updated?.response).toMatchObject({ status: '200 OK', etag: 'W/"2"', location: `${updated?.fullUrl}/_history/2` })
    expect((vread?.resource as Patient).meta?.versionId).toBe('1')
    expect(deleted?.response?.status).toBe('204 No Content')
  })

  it('keeps the good entries when one entry fails, reporting the failure as that entry status and OperationOutcome', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, batch([
      post(makePatient({ name: [{ family: 'Good1' }] })),
      post(makePatient({ birthDate: 'not-a-date' })),
      { request: { method: 'GET', url: 'Patient/unknown-id' } },
      post(makePatient({ name: [{ family: 'Good2' }] })),
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [good1, invalid, missing, good2] = entriesOf(res)
    expect(good1?.response?.status).toBe('201 Created')
    expect(invalid?.response?.status).toBe('400 Bad Request')
    expect(invalid?.response?.outcome?.issue?.[0]).toMatchObject({ severity: 'error' })
    expect(invalid?.resource).toBeUndefined()
    expect(missing?.response?.status).toBe('404 Not Found')
    expect(missing?.response?.outcome?.issue?.[0]?.code).toBe('not-found')
    expect(good2?.response?.status).toBe('201 Created')
    expect(await patientCount(tenant)).toBe(2)
  })

  it('reports a malformed entry (no request, unknown type) as 400/404 for that entry only', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, batch([{ resource: makePatient() }, { request: { method: 'GET', url: 'Patinet/1' } }, post(makePatient())]))
    expect(res.statusCode, res.body).toBe(200)
    expect(entriesOf(res).map((e) => e.response?.status)).toEqual(['400 Bad Request', '404 Not Found', '201 Created'])
  })

  it('answers 412 for the one entry whose ifMatch is stale, and applies the others', async () => {
    const tenant = await t.newTenant()
    const a = await createPatient(tenant)
    const b = await createPatient(tenant)
    const res = await send(tenant, batch([
      { resource: { ...a, active: false }, request: { method: 'PUT', url: `Patient/${a.id}`, ifMatch: 'W/"3"' } },
      { resource: { ...b, active: false }, request: { method: 'PUT', url: `Patient/${b.id}`, ifMatch: 'W/"1"' } },
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [stale, fresh] = entriesOf(res)
    expect(stale?.response?.status).toBe('412 Precondition Failed')
    expect(stale?.response?.outcome?.issue?.[0]?.details?.coding?.[0]?.code).toBe('MSG_VERSION_AWARE_CONFLICT')
    expect(fresh?.response?.etag).toBe('W/"2"')
    expect(resourceOf<Patient>(await tenant.request('GET', `/Patient/${a.id}`)).meta?.versionId).toBe('1')
  })

  it('refuses an entry the token has no scope for with 403, and runs the entries it allows', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.*' })
    const res = await send(tenant, batch([post(makeObservation()), post(makePatient())]))
    expect(res.statusCode, res.body).toBe(200)
    const [refused, created] = entriesOf(res)
    expect(refused?.response?.status).toBe('403 Forbidden')
    expect(refused?.response?.outcome?.issue?.[0]?.code).toBe('forbidden')
    expect(created?.response?.status).toBe('201 Created')
  })

  it('resolves urn:uuid references between batch entries too', async () => {
    const tenant = await t.newTenant()
    const urn = 'urn:uuid:9b0e0d2c-2222-4c6e-9d3b-000000000001'
    const res = await send(tenant, batch([post(makeObservation({ subject: { reference: urn } })), { ...post(makePatient()), fullUrl: urn }]))
    expect(res.statusCode, res.body).toBe(200)
    const [observation, patient] = entriesOf(res)
    expect((observation?.resource as Observation).subject?.reference).toBe(`Patient/${(patient?.resource as Patient).id}`)
  })

  it('answers a conditional create that matches (ifNoneExist) with 200 and the existing resource', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, batch([post(makePatient(), { ifNoneExist: `_id=${p.id}` })]))
    expect(entriesOf(res)[0]?.response).toMatchObject({ status: '200 OK', location: expect.stringContaining(`/Patient/${p.id}/_history/1`) })
    expect(await patientCount(tenant)).toBe(1)
  })

  it('honours Prefer: return=minimal for every entry', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, batch([post(makePatient()), post(makePatient())]), { prefer: 'return=minimal' })
    expect(entriesOf(res).map((e) => [e.resource, e.response?.status])).toEqual([[undefined, '201 Created'], [undefined, '201 Created']])
  })

  it('runs a search entry and answers a searchset Bundle as the entry resource', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    const res = await send(tenant, batch([{ request: { method: 'GET', url: 'Patient?_count=1' } }]))
    const searchset = entriesOf(res)[0]?.resource as Bundle
    expect(searchset).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 })
    expect(searchset.link?.[0]?.url).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient?_count=1`)
  })

  it('conditional create by identifier makes re-posting the same batch create nothing new (needs the search engine)', async () => {
    const tenant = await t.newTenant()
    const bundle = batch([
      post({ resourceType: 'Organization', name: 'Clinic A', identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: 'org-a' }] }, { ifNoneExist: 'identifier=https://github.com/synthetichealth/synthea|org-a' }),
    ])
    expect(entriesOf(await send(tenant, bundle))[0]?.response?.status).toBe('201 Created')
    expect(entriesOf(await send(tenant, bundle))[0]?.response?.status).toBe('200 OK')
  })
})

describe('POST to the base: what is not a batch or transaction', () => {
  it('answers 400 for a body that is not a Bundle', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await send(tenant, makePatient()), { status: 400, code: 'structure', diagnostics: /needs a Bundle of type batch or transaction/ })
  })

  it('answers 400 for a Bundle of another type (document)', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await send(tenant, { resourceType: 'Bundle', type: 'document', entry: [] }), { status: 400, code: 'invalid', diagnostics: /'document'/ })
  })

  it('answers 413 naming MAX_BUNDLE_ENTRIES for more entries than the limit, and writes nothing', async () => {
    const small = await buildTestApp({ MAX_BUNDLE_ENTRIES: '3' })
    try {
      const tenant = await small.newTenant()
      const res = await send(tenant, batch(Array.from({ length: 4 }, () => post(makePatient()))))
      expectOutcome(res, { status: 413, code: 'too-costly', diagnostics: /4 entries.*at most 3.*MAX_BUNDLE_ENTRIES/ })
      expect(await patientCount(tenant)).toBe(0)
    } finally {
      await small.close()
    }
  })

  it('answers 413 for a body over BODY_LIMIT', async () => {
    const small = await buildTestApp({ BODY_LIMIT: '2048' })
    try {
      const tenant = await small.newTenant()
      const res = await send(tenant, batch(Array.from({ length: 20 }, () => post(makePatient()))))
      expectOutcome(res, { status: 413, code: 'too-costly' })
    } finally {
      await small.close()
    }
  })

  it('answers 401 without a token', async () => {
    const tenant = await t.newTenant()
    const res = await t.app.inject({ method: 'POST', url: `/fhir/${tenant.tenantId}`, headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(batch([])) })
    expectOutcome(res, { status: 401, code: 'login' })
  })

  it('answers GET on the base (no parameters) with an OperationOutcome, not a server error', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('GET', '')
    expect(res.statusCode).toBeLessThan(500)
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/)
  })

  it('declares the batch and transaction system interactions in the CapabilityStatement', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('GET', '/metadata')
    const codes = res.json<{ rest: { interaction: { code: string }[] }[] }>().rest[0]?.interaction.map((i) => i.code)
    expect(codes).toEqual(expect.arrayContaining(['batch', 'transaction']))
  })
})

describe('transaction authorization', () => {
  it('fails a whole transaction with 403 when the token lacks the scope of one entry, and writes nothing', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.*' })
    const res = await send(tenant, { resourceType: 'Bundle', type: 'transaction', entry: [post(makePatient()), post(makeObservation())] })
    expectOutcome(res, { status: 403, code: 'forbidden', diagnostics: /^Bundle\.entry\[1\]/ })
    expect(await patientCount(tenant)).toBe(0)
  })
})
