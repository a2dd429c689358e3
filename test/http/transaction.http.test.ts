import type { Bundle, BundleEntry, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf, expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** transaction — https://hl7.org/fhir/R4/http.html#transaction (#trules for order and references) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const PATIENT_URN = 'urn:uuid:3f6b2c4e-1111-4c6e-9d3b-000000000001'
const ENCOUNTER_URN = 'urn:uuid:3f6b2c4e-1111-4c6e-9d3b-000000000002'
const transaction = (entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry })
const post = (resource: BundleEntry['resource'], fullUrl?: string, request: Partial<NonNullable<BundleEntry['request']>> = {}): BundleEntry => ({
  ...(fullUrl ? { fullUrl } : {}),
  resource,
  request: { method: 'POST', url: resource!.resourceType, ...request },
})
const put = (resource: Resource, request: Partial<NonNullable<BundleEntry['request']>> = {}): BundleEntry => ({
  resource,
  request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}`, ...request },
})
const get = (url: string): BundleEntry => ({ request: { method: 'GET', url } })

const send = (tenant: TestTenant, bundle: Bundle, headers: Record<string, string> = {}) => tenant.request('POST', '', { body: bundle, headers })

/** `Type/id` of a response entry (from its fullUrl). */
const refOf = (entry: BundleEntry | undefined) => new URL(entry?.fullUrl ?? 'http://x/').pathname.split('/').slice(-2).join('/')


/** What a rolled-back transaction must leave unchanged: current counts and history totals. */
async function snapshot(tenant: TestTenant) {
  const total = async (path: string) => (await tenant.request('GET', path)).json<Bundle>().total
  return {
    system: await total('/_history?_count=0'),
    patients: await total('/Patient?_count=0'),
    patientHistory: await total('/Patient/_history?_count=0'),
    observations: await total('/Observation?_count=0'),
    observationHistory: await total('/Observation/_history?_count=0'),
  }
}

describe('transaction: writes and the response Bundle', () => {
  it('answers 200 with a transaction-response whose entries keep the request order and carry status, location, etag, lastModified and resource', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, transaction([get('Patient?_count=0'), post(makePatient(), PATIENT_URN), post(makeObservation({ subject: { reference: PATIENT_URN } }))]))
    expect(res.statusCode, res.body).toBe(200)
    const bundle = resourceOf<Bundle>(res)
    expect(bundle.type).toBe('transaction-response')
    const [search, created, observation] = bundle.entry ?? []
    expect(search?.response?.status).toBe('200 OK')
    expect(created?.response).toMatchObject({ status: '201 Created', etag: 'W/"1"' })
    expect(created?.response?.location).toBe(`${created?.fullUrl}/_history/1`)
    expect(created?.response?.lastModified).toBe(created?.resource?.meta?.lastUpdated)
    expect(created?.resource?.resourceType).toBe('Patient')
    expect(observation?.resource?.resourceType).toBe('Observation')
    // The search ran last (GET after POST): it already counts the new Patient.
    expect((search?.resource as Bundle).total).toBe(1)
  })

  it('assigns server ids to POST entries (ignoring the ids in the bodies) and rewrites urn:uuid references to them', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, transaction([
      post(makePatient({ id: 'from-the-client' }), PATIENT_URN),
      post({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: PATIENT_URN } }, ENCOUNTER_URN),
      post(makeObservation({ subject: { reference: PATIENT_URN }, encounter: { reference: ENCOUNTER_URN } })),
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [patient, encounter, observation] = entriesOf(res)
    expect(refOf(patient)).not.toBe('Patient/from-the-client')
    const stored = resourceOf<Observation>(await tenant.request('GET', `/${refOf(observation)}`))
    expect(stored.subject?.reference).toBe(refOf(patient))
    expect(stored.encounter?.reference).toBe(refOf(encounter))
  })

  it('rewrites references nested in extensions, contained resources, backbone elements, uri values and the narrative', async () => {
    const tenant = await t.newTenant()
    const observation: Observation = makeObservation({
      text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${PATIENT_URN}">patient</a></div>` },
      contained: [{ resourceType: 'Specimen', id: 'sp', subject: { reference: PATIENT_URN } }],
      specimen: { reference: '#sp' },
      extension: [
        { url: 'http://example.org/fhir/StructureDefinition/about', valueReference: { reference: PATIENT_URN } },
        { url: 'http://example.org/fhir/StructureDefinition/source', valueUri: PATIENT_URN },
      ],
      performer: [{ reference: PATIENT_URN }],
      component: [{ code: { text: 'c' }, valueString: 'v', extension: [{ url: 'http://example.org/x', valueReference: { reference: PATIENT_URN } }] }],
      identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.3.25', value: 'S1' }],
    })
    const res = await send(tenant, transaction([post(observation), post(makePatient(), PATIENT_URN)]))
    expect(res.statusCode, res.body).toBe(200)
    const ref = refOf(entriesOf(res)[1])
    const stored = resourceOf<Observation>(await tenant.request('GET', `/${refOf(entriesOf(res)[0])}`))
    expect(stored.text?.div).toContain(`href="${ref}"`)
    expect((stored.contained?.[0] as { subject?: { reference?: string } }).subject?.reference).toBe(ref)
    expect(stored.specimen?.reference).toBe('#sp')
    expect(stored.extension?.[0]?.valueReference?.reference).toBe(ref)
    expect(stored.extension?.[1]?.valueUri).toBe(ref)
    expect(stored.performer?.[0]?.reference).toBe(ref)
    expect(stored.component?.[0]?.extension?.[0]?.valueReference?.reference).toBe(ref)
    expect(stored.identifier?.[0]?.system).toBe('urn:oid:2.16.840.1.113883.4.3.25')
    expect(JSON.stringify(stored)).not.toContain('urn:uuid:')
  })

  it('keeps the id of a PUT Type/id entry (201 when new, 200 when it existed) and points fullUrl references at it', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant)
    const res = await send(tenant, transaction([
      { ...put(makePatient({ id: 'chosen-id' })), fullUrl: PATIENT_URN },
      put({ ...existing, active: false }),
      post(makeObservation({ subject: { reference: PATIENT_URN } })),
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [created, updated, observation] = entriesOf(res)
    expect(created?.response?.status).toBe('201 Created')
    expect(refOf(created)).toBe('Patient/chosen-id')
    expect(updated?.response).toMatchObject({ status: '200 OK', etag: 'W/"2"' })
    expect((observation?.resource as Observation).subject?.reference).toBe('Patient/chosen-id')
  })

  it('applies a JSON Patch (as Binary) and a FHIRPath Patch entry', async () => {
    const tenant = await t.newTenant()
    const a = await createPatient(tenant)
    const b = await createPatient(tenant)
    const data = Buffer.from(JSON.stringify([{ op: 'replace', path: '/active', value: false }])).toString('base64')
    const res = await send(tenant, transaction([
      { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: `Patient/${a.id}` } },
      {
        resource: { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueCode: 'male' }] }] },
        request: { method: 'PATCH', url: `Patient/${b.id}` },
      },
    ]))
    expect(res.statusCode, res.body).toBe(200)
    expect(entriesOf(res).map((e) => e.response?.status)).toEqual(['200 OK', '200 OK'])
    expect(resourceOf<Patient>(await tenant.request('GET', `/Patient/${a.id}`)).active).toBe(false)
    expect(resourceOf<Patient>(await tenant.request('GET', `/Patient/${b.id}`)).gender).toBe('male')
  })

  it('honours Prefer: return=minimal (no resource) and return=OperationOutcome (an outcome per entry)', async () => {
    const tenant = await t.newTenant()
    const minimal = entriesOf(await send(tenant, transaction([post(makePatient())]), { prefer: 'return=minimal' }))[0]
    expect(minimal?.resource).toBeUndefined()
    expect(minimal?.response?.location).toMatch(/\/Patient\/[^/]+\/_history\/1$/)
    const outcome = entriesOf(await send(tenant, transaction([post(makePatient())]), { prefer: 'return=OperationOutcome' }))[0]
    expect(outcome?.resource).toBeUndefined()
    expect(outcome?.response?.outcome?.issue?.[0]).toMatchObject({ severity: 'information' })
  })

  it('keeps the decimal precision of entry resources as sent (1.50 stays 1.50, 72.0 stays 72.0)', async () => {
    const tenant = await t.newTenant()
    // Raw JSON text: a JavaScript object would already have lost the trailing zeros.
    const observation = (value: string, id = '') =>
      `{"resourceType":"Observation",${id ? `"id":"${id}",` : ''}"status":"final","code":{"text":"dose"},"valueQuantity":{"value":${value},"unit":"mg"}}`
    const body = `{"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":${observation('1.50')},"request":{"method":"POST","url":"Observation"}},
      {"resource":${observation('72.0', 'precise')},"request":{"method":"PUT","url":"Observation/precise"}}]}`
    const res = await tenant.request('POST', '', { body })
    expect(res.statusCode, res.body).toBe(200)
    expect((await tenant.request('GET', `/${refOf(entriesOf(res)[0])}`)).body).toContain('"value":1.50')
    expect((await tenant.request('GET', '/Observation/precise')).body).toContain('"value":72.0')
  })

  it('answers an empty transaction with an empty transaction-response', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, transaction([]))
    expect(res.statusCode).toBe(200)
    expect(resourceOf<Bundle>(res)).toEqual({ resourceType: 'Bundle', type: 'transaction-response' })
  })
})

describe('transaction: processing order (DELETE, POST, PUT/PATCH, GET)', () => {
  it('runs a DELETE before a conditional POST of the same resource, so the POST creates it anew', async () => {
    const tenant = await t.newTenant()
    const old = await createPatient(tenant)
    const res = await send(tenant, transaction([
      post(makePatient(), undefined, { ifNoneExist: `_id=${old.id}` }),
      { request: { method: 'DELETE', url: `Patient/${old.id}` } },
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [created, deleted] = entriesOf(res)
    expect(deleted?.response).toMatchObject({ status: '204 No Content', etag: 'W/"2"' })
    expect(created?.response?.status).toBe('201 Created')
    expect(refOf(created)).not.toBe(`Patient/${old.id}`)
    expectOutcome(await tenant.request('GET', `/Patient/${old.id}`), { status: 410, code: 'deleted' })
  })

  it('lets GET entries see the writes of the same transaction, wherever they stand in the Bundle', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, transaction([
      get('Patient/seen-id'),
      get('Patient?_id=seen-id'),
      get('Patient/seen-id/_history/1'),
      put(makePatient({ id: 'seen-id', gender: 'other' })),
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [read, search, vread] = entriesOf(res)
    expect(read?.response).toMatchObject({ status: '200 OK', etag: 'W/"1"' })
    expect((read?.resource as Patient).gender).toBe('other')
    expect((search?.resource as Bundle).total).toBe(1)
    expect(vread?.response?.status).toBe('200 OK')
  })

  it('answers 304 to a GET entry whose ifNoneMatch is the current version, and leaves out the resource of a HEAD entry', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, transaction([
      { request: { method: 'GET', url: `Patient/${p.id}`, ifNoneMatch: 'W/"1"' } },
      { request: { method: 'HEAD', url: `Patient/${p.id}` } },
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [notModified, head] = entriesOf(res)
    expect(notModified?.response).toMatchObject({ status: '304 Not Modified', etag: 'W/"1"' })
    expect(notModified?.resource).toBeUndefined()
    expect(head?.response?.status).toBe('200 OK')
    expect(head?.resource).toBeUndefined()
  })

  it('refuses with 400 a transaction that writes the same resource twice', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, transaction([put(makePatient({ id: 'twice' })), put(makePatient({ id: 'twice', active: false }))]))
    expectOutcome(res, { status: 400, code: 'invalid', diagnostics: /Bundle\.entry\[1\].*Patient\/twice.*entry 0/ })
    expectOutcome(await tenant.request('GET', '/Patient/twice'), { status: 404, code: 'not-found' })
  })
})

describe('transaction: atomicity', () => {
  it('rolls everything back when the last entry is invalid: counts and history totals are exactly as before', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant)
    const observation = resourceOf<Observation>(await tenant.request('POST', '/Observation', { body: makeObservation() }))
    const before = await snapshot(tenant)
    const res = await send(tenant, transaction([
      post(makePatient(), PATIENT_URN),
      post(makeObservation({ subject: { reference: PATIENT_URN } })),
      put({ ...existing, active: false }),
      { request: { method: 'DELETE', url: `Observation/${observation.id}` } },
      post(makePatient({ birthDate: 'not-a-date' }), 'urn:uuid:the-bad-one'),
    ]))
    const outcome = expectOutcome(res, { status: 400, code: /invalid|value|structure/, diagnostics: /^Bundle\.entry\[4\] \(fullUrl urn:uuid:the-bad-one\)/ })
    expect(outcome.issue?.[0]?.expression?.[0]).toBe('Bundle.entry[4]')
    expect(await snapshot(tenant)).toEqual(before)
    expect(resourceOf<Patient>(await tenant.request('GET', `/Patient/${existing.id}`))).toEqual(existing)
    expect(resourceOf<Observation>(await tenant.request('GET', `/Observation/${observation.id}`))).toEqual(observation)
  })

  it('fails the whole transaction with 412 when an ifMatch is stale, naming the entry, and writes nothing', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const before = await snapshot(tenant)
    const res = await send(tenant, transaction([post(makePatient()), put({ ...p, active: false }, { ifMatch: 'W/"2"' })]))
    expectOutcome(res, { status: 412, code: 'conflict', messageId: 'MSG_VERSION_AWARE_CONFLICT', diagnostics: /^Bundle\.entry\[1\]/ })
    expect(await snapshot(tenant)).toEqual(before)
  })

  it('updates with a matching ifMatch', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, transaction([put({ ...p, active: false }, { ifMatch: 'W/"1"' })]))
    expect(res.statusCode, res.body).toBe(200)
    expect(entriesOf(res)[0]?.response?.etag).toBe('W/"2"')
  })

  it.each([
    ['a GET of an unknown id', 404, 'not-found', () => get('Patient/does-not-exist')],
    ['an unknown resource type', 404, 'not-found', () => ({ request: { method: 'GET', url: 'Patinet/1' } })],
    ['an entry without a request', 400, 'required', () => ({ resource: makePatient() })],
    ['a urn:uuid reference to no entry', 400, 'invalid', () => post(makeObservation({ subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000404' } }))],
    ['a patch that changes the id', 422, 'processing', () => ({
      resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify([{ op: 'replace', path: '/id', value: 'other' }])).toString('base64') },
      request: { method: 'PATCH', url: 'Patient/patch-me' },
    })],
  ] as const)('fails with %s: status %i, nothing written', async (_name, status, code, bad) => {
    const tenant = await t.newTenant()
    await tenant.request('PUT', '/Patient/patch-me', { body: makePatient({ id: 'patch-me' }) })
    const before = await snapshot(tenant)
    const res = await send(tenant, transaction([post(makePatient()), bad() as BundleEntry]))
    const outcome = expectOutcome(res, { status, code: code as OperationOutcome['issue'][number]['code'], diagnostics: /^Bundle\.entry\[1\]/ })
    expect(outcome.issue?.[0]?.expression?.[0]).toBe('Bundle.entry[1]')
    expect(await snapshot(tenant)).toEqual(before)
  })
})

describe('transaction: conditional operations by _id', () => {
  it('answers 200 and writes nothing for a conditional create (ifNoneExist) that matches one resource', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, transaction([post(makePatient(), PATIENT_URN, { ifNoneExist: `_id=${p.id}` }), post(makeObservation({ subject: { reference: PATIENT_URN } }))]))
    expect(res.statusCode, res.body).toBe(200)
    const [matched, observation] = entriesOf(res)
    expect(matched?.response).toMatchObject({ status: '200 OK', etag: 'W/"1"' })
    expect((observation?.resource as Observation).subject?.reference).toBe(`Patient/${p.id}`)
    expect((await tenant.request('GET', '/Patient?_count=0')).json<Bundle>().total).toBe(1)
  })

  it('creates one resource for two equal conditional creates in the same transaction', async () => {
    const tenant = await t.newTenant()
    const res = await send(tenant, transaction([post(makePatient(), undefined, { ifNoneExist: '_id=nobody' }), post(makePatient(), undefined, { ifNoneExist: '_id=nobody' })]))
    expect(res.statusCode, res.body).toBe(200)
    const [first, second] = entriesOf(res)
    expect(first?.response?.status).toBe('201 Created')
    expect(second?.response?.status).toBe('200 OK')
    expect(refOf(second)).toBe(refOf(first))
    expect((await tenant.request('GET', '/Patient?_count=0')).json<Bundle>().total).toBe(1)
  })

  it('fails with 412 when a conditional create, update or delete matches several resources', async () => {
    const tenant = await t.newTenant()
    const [a, b] = [await createPatient(tenant), await createPatient(tenant)]
    const both = `_id=${a.id},${b.id}`
    for (const entry of [
      post(makePatient(), undefined, { ifNoneExist: both }),
      { resource: makePatient(), request: { method: 'PUT', url: `Patient?${both}` } },
      { request: { method: 'DELETE', url: `Patient?${both}` } },
    ] as BundleEntry[]) {
      expectOutcome(await send(tenant, transaction([entry])), { status: 412, code: 'multiple-matches', diagnostics: /^Bundle\.entry\[0\]/ })
    }
    expect((await tenant.request('GET', '/Patient?_count=0')).json<Bundle>().total).toBe(2)
  })

  it('updates the one match of a conditional update and creates when there is none', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, transaction([
      { resource: makePatient({ active: false }), request: { method: 'PUT', url: `Patient?_id=${p.id}` } },
      { resource: makePatient({ gender: 'male' }), request: { method: 'PUT', url: 'Patient?_id=no-such-patient' } },
    ]))
    expect(res.statusCode, res.body).toBe(200)
    const [updated, created] = entriesOf(res)
    expect(updated?.response).toMatchObject({ status: '200 OK', etag: 'W/"2"' })
    expect(refOf(updated)).toBe(`Patient/${p.id}`)
    expect(created?.response?.status).toBe('201 Created')
  })

  it('deletes the one match of a conditional delete and answers 204 when nothing matches', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant)
    const res = await send(tenant, transaction([{ request: { method: 'DELETE', url: `Patient?_id=${p.id}` } }, { request: { method: 'DELETE', url: 'Patient?_id=nobody' } }]))
    expect(res.statusCode, res.body).toBe(200)
    expect(entriesOf(res).map((e) => e.response?.status)).toEqual(['204 No Content', '204 No Content'])
    expectOutcome(await tenant.request('GET', `/Patient/${p.id}`), { status: 410, code: 'deleted' })
  })

  it('resolves a conditional reference with one match and fails with 400 for none and 412 for several', async () => {
    const tenant = await t.newTenant()
    const [a, b] = [await createPatient(tenant), await createPatient(tenant)]
    const ok = await send(tenant, transaction([post(makeObservation({ subject: { reference: `Patient?_id=${a.id}` } }))]))
    expect(ok.statusCode, ok.body).toBe(200)
    expect((entriesOf(ok)[0]?.resource as Observation).subject?.reference).toBe(`Patient/${a.id}`)
    const none = await send(tenant, transaction([post(makeObservation({ subject: { reference: 'Patient?_id=nobody' } }))]))
    expectOutcome(none, { status: 400, code: 'invalid', diagnostics: /matches no Patient/ })
    const several = await send(tenant, transaction([post(makeObservation({ subject: { reference: `Patient?_id=${a.id},${b.id}` } }))]))
    expectOutcome(several, { status: 412, code: 'multiple-matches' })
  })

  it('refuses with 400 a conditional URL without criteria, so it can never match everything', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant)
    expectOutcome(await send(tenant, transaction([{ request: { method: 'DELETE', url: 'Patient?_count=1' } }])), { status: 400, code: 'invalid', diagnostics: /no search criteria/ })
    expect((await tenant.request('GET', '/Patient?_count=0')).json<Bundle>().total).toBe(1)
  })
})

describe('transaction: conditional operations by identifier (need the search engine)', () => {
  const identifier = (value: string) => [{ system: 'http://hospital.example.org/mrn', value }]

  it('conditional create by identifier creates once, then matches (200) on the second post', async () => {
    const tenant = await t.newTenant()
    const bundle = transaction([post(makePatient({ identifier: identifier('mrn-1') }), undefined, { ifNoneExist: 'identifier=http://hospital.example.org/mrn|mrn-1' })])
    expect(entriesOf(await send(tenant, bundle))[0]?.response?.status).toBe('201 Created')
    const again = await send(tenant, bundle)
    expect(again.statusCode, again.body).toBe(200)
    expect(entriesOf(again)[0]?.response?.status).toBe('200 OK')
  })

  it('resolves a conditional reference by identifier (Practitioner?identifier=...)', async () => {
    const tenant = await t.newTenant()
    const created = await tenant.request('POST', '/Practitioner', { body: { resourceType: 'Practitioner', identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '9999963991' }] } })
    const res = await send(tenant, transaction([post(makeObservation({ performer: [{ reference: 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999963991' }] }))]))
    expect(res.statusCode, res.body).toBe(200)
    expect((entriesOf(res)[0]?.resource as Observation).performer?.[0]?.reference).toBe(`Practitioner/${resourceOf(created).id}`)
  })

  it('conditional update and delete by identifier act on the one match', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant, { identifier: identifier('mrn-2') })
    const url = 'Patient?identifier=http://hospital.example.org/mrn|mrn-2'
    const updated = await send(tenant, transaction([{ resource: makePatient({ identifier: identifier('mrn-2'), active: false }), request: { method: 'PUT', url } }]))
    expect(updated.statusCode, updated.body).toBe(200)
    expect(refOf(entriesOf(updated)[0])).toBe(`Patient/${p.id}`)
    const deleted = await send(tenant, transaction([{ request: { method: 'DELETE', url } }]))
    expect(deleted.statusCode, deleted.body).toBe(200)
    expectOutcome(await tenant.request('GET', `/Patient/${p.id}`), { status: 410, code: 'deleted' })
  })
})
