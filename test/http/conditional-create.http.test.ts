import type { Bundle, CapabilityStatement, OperationOutcome, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { entriesOf, expectOutcome, resourceOf } from '../setup/outcome.js'

/** conditional create — https://hl7.org/fhir/R4/http.html#ccreate (If-None-Exist) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const MRN = 'http://hospital.example.org/mrn'
const withMrn = (value: string, overrides: Partial<Patient> = {}) => makePatient({ identifier: [{ system: MRN, value }], ...overrides })
const postIfNoneExist = (tenant: TestTenant, body: unknown, criteria: string, headers: Record<string, string> = {}) =>
  tenant.request('POST', '/Patient', { body, headers: { 'if-none-exist': criteria, ...headers } })
const patientCount = async (tenant: TestTenant, query = '') => (await tenant.request('GET', `/Patient?_count=0${query}`)).json<Bundle>().total

describe('conditional create (If-None-Exist)', () => {
  it('creates with 201, Location and ETag when nothing matches', async () => {
    const tenant = await t.newTenant()
    const res = await postIfNoneExist(tenant, withMrn('c-1'), `identifier=${MRN}|c-1`)
    expect(res.statusCode, res.body).toBe(201)
    const created = resourceOf<Patient>(res)
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${created.id}/_history/1`)
    expect(res.headers.etag).toBe('W/"1"')
    expect(created.identifier?.[0]?.value).toBe('c-1')
  })

  it('answers 200 with the existing resource and writes nothing when one resource matches', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: [{ system: MRN, value: 'c-2' }], gender: 'male' })
    const res = await postIfNoneExist(tenant, withMrn('c-2', { gender: 'female' }), `identifier=${MRN}|c-2`)
    expect(res.statusCode, res.body).toBe(200)
    const body = resourceOf<Patient>(res)
    expect(body.id).toBe(existing.id)
    expect(body.gender).toBe('male')
    expect(res.headers.etag).toBe('W/"1"')
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${existing.id}/_history/1`)
    expect(await patientCount(tenant)).toBe(1)
    const history = await tenant.request('GET', `/Patient/${existing.id}/_history`)
    expect(history.json<Bundle>().total).toBe(1)
  })

  it('honours Prefer: return=minimal and return=OperationOutcome on a match', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: [{ system: MRN, value: 'c-3' }] })
    const minimal = await postIfNoneExist(tenant, withMrn('c-3'), `identifier=${MRN}|c-3`, { prefer: 'return=minimal' })
    expect(minimal.statusCode).toBe(200)
    expect(minimal.body).toBe('')
    expect(minimal.headers.location).toContain(`/Patient/${existing.id}/_history/1`)
    const outcome = await postIfNoneExist(tenant, withMrn('c-3'), `identifier=${MRN}|c-3`, { prefer: 'return=OperationOutcome' })
    expect(outcome.statusCode).toBe(200)
    expect(outcome.json<OperationOutcome>().issue[0]?.diagnostics).toContain(`Patient/${existing.id}`)
  })

  it('answers 412 multiple-matches and writes nothing when several resources match', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant, { identifier: [{ system: MRN, value: 'dup' }] })
    await createPatient(tenant, { identifier: [{ system: MRN, value: 'dup' }] })
    const res = await postIfNoneExist(tenant, withMrn('dup'), `identifier=${MRN}|dup`)
    expectOutcome(res, { status: 412, code: 'multiple-matches', diagnostics: /more than one Patient/ })
    expect(await patientCount(tenant)).toBe(2)
  })

  it('matches on all the criteria (AND), so a resource matching only some of them does not count', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant, { identifier: [{ system: MRN, value: 'c-4' }], active: false })
    const res = await postIfNoneExist(tenant, withMrn('c-4'), `identifier=${MRN}|c-4&active=true`)
    expect(res.statusCode, res.body).toBe(201)
    expect(await patientCount(tenant, `&identifier=${MRN}|c-4`)).toBe(2)
  })

  it('accepts the criteria written as Type?params (some clients send that form)', async () => {
    const tenant = await t.newTenant()
    const existing = await createPatient(tenant, { identifier: [{ system: MRN, value: 'c-5' }] })
    const res = await postIfNoneExist(tenant, withMrn('c-5'), `Patient?identifier=${MRN}|c-5`)
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf(res).id).toBe(existing.id)
  })

  it('never matches a deleted resource', async () => {
    const tenant = await t.newTenant()
    const old = await createPatient(tenant, { identifier: [{ system: MRN, value: 'c-6' }] })
    expect((await tenant.request('DELETE', `/Patient/${old.id}`)).statusCode).toBe(204)
    const res = await postIfNoneExist(tenant, withMrn('c-6'), `identifier=${MRN}|c-6`)
    expect(res.statusCode, res.body).toBe(201)
    expect(resourceOf(res).id).not.toBe(old.id)
  })

  it('never matches data of another tenant', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    await createPatient(b, { identifier: [{ system: MRN, value: 'shared' }] })
    const res = await postIfNoneExist(a, withMrn('shared'), `identifier=${MRN}|shared`)
    expect(res.statusCode, res.body).toBe(201)
    expect(await patientCount(a)).toBe(1)
    expect(await patientCount(b)).toBe(1)
  })
})

describe('conditional create: criteria errors are 400 OperationOutcomes naming the parameter', () => {
  it('refuses an empty If-None-Exist (it would match every Patient)', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await postIfNoneExist(tenant, makePatient(), ''), { status: 400, code: 'invalid', diagnostics: /no search criteria/ })
    expect(await patientCount(tenant)).toBe(0)
  })

  it('refuses criteria made only of paging parameters', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await postIfNoneExist(tenant, makePatient(), '_count=1&_sort=name'), { status: 400, code: 'invalid', diagnostics: /no search criteria/ })
  })

  it('refuses an unknown parameter even without Prefer: handling=strict', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await postIfNoneExist(tenant, makePatient(), 'identifier=a|1&shoe-size=42'), { status: 400, code: 'invalid' })
    expect(outcome.issue[0]?.diagnostics).toContain('shoe-size')
    expect(outcome.issue[0]?.expression).toEqual(['shoe-size'])
    expect(await patientCount(tenant)).toBe(0)
  })

  it('refuses a malformed value, naming the parameter', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await postIfNoneExist(tenant, makePatient(), 'birthdate=not-a-date'), { status: 400, code: 'invalid' })
    expect(outcome.issue[0]?.expression).toEqual(['birthdate'])
  })

  it('refuses a parameter without a value instead of dropping it', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await postIfNoneExist(tenant, makePatient(), 'identifier='), { status: 400, code: 'invalid', diagnostics: /identifier has no value/ })
    expect(outcome.issue[0]?.expression).toEqual(['identifier'])
  })

  it('checks the body like a plain create when nothing matches (400 for a resourceType mismatch)', async () => {
    const tenant = await t.newTenant()
    const res = await postIfNoneExist(tenant, { resourceType: 'Observation' }, `identifier=${MRN}|x`)
    expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_TYPE_MISMATCH' })
  })

  it('needs the search scope as well as create: 403 for a create-only token', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.c' })
    const res = await postIfNoneExist(tenant, withMrn('s-1'), `identifier=${MRN}|s-1`)
    expectOutcome(res, { status: 403, code: 'forbidden', diagnostics: /search/ })
  })
})

describe('conditional interactions in the CapabilityStatement', () => {
  it('declares conditional create, update, read and multiple delete', async () => {
    const tenant = await t.newTenant()
    const cs = resourceOf<CapabilityStatement>(await tenant.request('GET', '/metadata'))
    const patient = cs.rest?.[0]?.resource?.find((r) => r.type === 'Patient')
    expect(patient).toMatchObject({ conditionalCreate: true, conditionalUpdate: true, conditionalRead: 'full-support', conditionalDelete: 'multiple' })
  })
})

describe('conditional create inside Bundles', () => {
  it('a batch entry with ifNoneExist answers 200 with the resource an HTTP conditional create made', async () => {
    const tenant = await t.newTenant()
    const first = await postIfNoneExist(tenant, withMrn('b-1'), `identifier=${MRN}|b-1`)
    expect(first.statusCode).toBe(201)
    const res = await tenant.request('POST', '', {
      body: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: withMrn('b-1'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|b-1` } }] },
    })
    expect(res.statusCode, res.body).toBe(200)
    const [entry] = entriesOf(res)
    expect(entry?.response?.status).toBe('200 OK')
    expect(entry?.resource?.id).toBe(resourceOf(first).id)
    expect(await patientCount(tenant)).toBe(1)
  })
})

describe('conditional criteria with _contained', () => {
  it('refuses _contained=true|both and _containedType=contained on create, update and delete with a 400 naming the parameter, and writes nothing', async () => {
    const tenant = await t.newTenant()
    // A contained Patient with the MRN: `Patient?_contained=true&identifier=...` would match its Observation container.
    const container = await tenant.request('POST', '/Observation', {
      body: {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'weight' },
        contained: [withMrn('k-1', { id: 'p1' })],
        subject: { reference: '#p1' },
      },
    })
    expect(container.statusCode, container.body).toBe(201)
    const cases = [
      ['_contained=true', '_contained'],
      ['_contained=both', '_contained'],
      ['_contained=true&_containedType=contained', '_contained'],
      ['_containedType=contained', '_containedType'],
    ] as const
    for (const [extra, param] of cases) {
      const criteria = `identifier=${MRN}|k-1&${extra}`
      const create = await postIfNoneExist(tenant, withMrn('k-1'), criteria)
      expectOutcome(create, { status: 400, code: 'invalid', diagnostics: new RegExp(`^${param}=`) })
      const update = await tenant.request('PUT', `/Patient?${criteria}`, { body: withMrn('k-1') })
      expectOutcome(update, { status: 400, code: 'invalid', diagnostics: new RegExp(`^${param}=`) })
      const del = await tenant.request('DELETE', `/Patient?${criteria}`)
      expectOutcome(del, { status: 400, code: 'invalid', diagnostics: new RegExp(`^${param}=`) })
    }
    expect(await patientCount(tenant)).toBe(0)
    const read = await tenant.request('GET', `/Observation/${resourceOf(container).id}`)
    expect(read.statusCode).toBe(200)
    // The defaults stay allowed: they only say what is already true of a conditional interaction.
    const plain = await postIfNoneExist(tenant, withMrn('k-1'), `identifier=${MRN}|k-1&_contained=false&_containedType=container`)
    expect(plain.statusCode, plain.body).toBe(201)
  })
})
