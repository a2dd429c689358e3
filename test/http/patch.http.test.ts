import type { Parameters, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** patch — https://hl7.org/fhir/R4/http.html#patch (JSON Patch and https://hl7.org/fhir/R4/fhirpatch.html) */
const JSON_PATCH = { 'content-type': 'application/json-patch+json' }

let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())


const fhirPathPatch = (...operations: { type: string; path: string; name?: string; value?: Record<string, unknown> }[]): Parameters => ({
  resourceType: 'Parameters',
  parameter: operations.map((op) => ({
    name: 'operation',
    part: [
      { name: 'type', valueCode: op.type },
      { name: 'path', valueString: op.path },
      ...(op.name ? [{ name: 'name', valueString: op.name }] : []),
      ...(op.value ? [{ name: 'value', ...op.value }] : []),
    ],
  })),
})

describe('patch with JSON Patch', () => {
  it('applies replace and add, answering 200 with version 2, ETag and Location', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      headers: JSON_PATCH,
      body: [
        { op: 'replace', path: '/birthDate', value: '1990-05-06' },
        { op: 'add', path: '/name/0/given/-', value: 'María' },
      ],
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers.etag).toBe('W/"2"')
    expect(res.headers.location).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${v1.id}/_history/2`)
    const patched = resourceOf<Patient>(res)
    expect(patched).toMatchObject({ birthDate: '1990-05-06', name: [{ given: ['Ana', 'María'] }], meta: { versionId: '2' } })
    expect(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`))).toEqual(patched)
  })

  it('applies remove, and a passing test operation', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      headers: JSON_PATCH,
      body: [
        { op: 'test', path: '/gender', value: 'female' },
        { op: 'remove', path: '/birthDate' },
      ],
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf<Patient>(res).birthDate).toBeUndefined()
  })

  it('returns 422 and writes nothing when a test operation fails', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      headers: JSON_PATCH,
      body: [
        { op: 'test', path: '/gender', value: 'male' },
        { op: 'replace', path: '/gender', value: 'other' },
      ],
    })
    expectOutcome(res, { status: 422, code: 'processing', diagnostics: /test failed/ })
    expect(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`))).toEqual(v1)
  })

  it('returns 422 when the path does not exist', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: JSON_PATCH, body: [{ op: 'remove', path: '/deceasedBoolean' }] })
    expectOutcome(res, { status: 422, code: 'processing', diagnostics: /deceasedBoolean/ })
  })

  it('returns 400 when the document is not an array of operations', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: JSON_PATCH, body: { op: 'remove', path: '/birthDate' } })
    expectOutcome(res, { status: 400, code: 'structure' })
  })

  it('returns 400 for an unknown op', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: JSON_PATCH, body: [{ op: 'frobnicate', path: '/birthDate' }] })
    expectOutcome(res, { status: 400, code: 'structure', diagnostics: /frobnicate/ })
  })

  it('returns 400 with the element in expression when the patched resource is invalid', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: JSON_PATCH, body: [{ op: 'replace', path: '/gender', value: 'bogus' }] })
    const outcome = expectOutcome(res, { status: 400, code: 'code-invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['Patient.gender'])
    expect(resourceOf(await tenant.request('GET', `/Patient/${v1.id}`)).meta?.versionId).toBe('1')
  })

  it('returns 422 when the patch changes the id', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: JSON_PATCH, body: [{ op: 'replace', path: '/id', value: 'other' }] })
    expectOutcome(res, { status: 422, code: 'processing', diagnostics: /id/ })
  })

  it('returns 404 for a resource that does not exist', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PATCH', '/Patient/missing', { headers: JSON_PATCH, body: [{ op: 'remove', path: '/birthDate' }] })
    expectOutcome(res, { status: 404, code: 'not-found' })
  })

  it('returns 410 for a deleted resource', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    await tenant.request('DELETE', `/Patient/${v1.id}`)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: JSON_PATCH, body: [{ op: 'remove', path: '/birthDate' }] })
    expectOutcome(res, { status: 410, code: 'deleted' })
  })

  it('returns 412 when If-Match names an older version, and 200 when it names the current one', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const body = [{ op: 'replace', path: '/active', value: false }]
    expect((await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: { ...JSON_PATCH, 'if-match': 'W/"1"' }, body })).statusCode).toBe(200)
    const stale = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: { ...JSON_PATCH, 'if-match': 'W/"1"' }, body })
    expectOutcome(stale, { status: 412, code: 'conflict', messageId: 'MSG_VERSION_AWARE_CONFLICT' })
  })

  it('answers Prefer: return=minimal with 200, ETag and no body', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      headers: { ...JSON_PATCH, prefer: 'return=minimal' },
      body: [{ op: 'replace', path: '/active', value: false }],
    })
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('')
    expect(res.headers.etag).toBe('W/"2"')
  })
})

describe('patch with FHIRPath Patch', () => {
  it('applies replace and add from a Parameters body, answering 200 with version 2', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const body = fhirPathPatch(
      { type: 'replace', path: 'Patient.birthDate', value: { valueDate: '1985-07-08' } },
      { type: 'add', path: 'Patient', name: 'deceasedBoolean', value: { valueBoolean: false } },
    )
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { body })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers.etag).toBe('W/"2"')
    expect(resourceOf<Patient>(res)).toMatchObject({ birthDate: '1985-07-08', deceasedBoolean: false, meta: { versionId: '2' } })
  })

  it('applies delete of a list item', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { body: fhirPathPatch({ type: 'delete', path: 'Patient.name[0]' }) })
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf<Patient>(res).name).toBeUndefined()
  })

  it('accepts the Parameters body sent as application/json', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      headers: { 'content-type': 'application/json' },
      body: fhirPathPatch({ type: 'replace', path: 'Patient.active', value: { valueBoolean: false } }),
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf<Patient>(res).active).toBe(false)
  })

  it('returns 422 when a replace path matches nothing', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      body: fhirPathPatch({ type: 'replace', path: 'Patient.deceasedBoolean', value: { valueBoolean: true } }),
    })
    expectOutcome(res, { status: 422, code: 'processing' })
  })

  it('returns 400 for an unknown operation type', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { body: fhirPathPatch({ type: 'upsert', path: 'Patient.active' }) })
    expectOutcome(res, { status: 400, code: 'structure', diagnostics: /upsert/ })
  })

  it('returns 400 for a path that is not FHIRPath', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { body: fhirPathPatch({ type: 'delete', path: 'Patient.name[' }) })
    expectOutcome(res, { status: 400, code: 'structure' })
  })

  it('returns 400 when the patched resource violates a required binding', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, {
      body: fhirPathPatch({ type: 'replace', path: 'Patient.gender', value: { valueCode: 'bogus' } }),
    })
    const outcome = expectOutcome(res, { status: 400, code: 'code-invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['Patient.gender'])
  })

  it('returns 404 for a resource that does not exist', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PATCH', '/Patient/missing', { body: fhirPathPatch({ type: 'delete', path: 'Patient.active' }) })
    expectOutcome(res, { status: 404, code: 'not-found' })
  })
})

describe('patch with other bodies', () => {
  it('returns 400 for a FHIR JSON body that is not a Parameters resource', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { body: { ...v1, active: false } })
    expectOutcome(res, { status: 400, code: 'invalid', diagnostics: /JSON Patch|FHIRPath Patch/ })
  })

  it('returns 415 for an XML patch body', async () => {
    const tenant = await t.newTenant()
    const v1 = await createPatient(tenant)
    const res = await tenant.request('PATCH', `/Patient/${v1.id}`, { headers: { 'content-type': 'application/xml-patch+xml' }, body: '<diff/>' })
    expectOutcome(res, { status: 415, code: 'not-supported' })
  })
})
