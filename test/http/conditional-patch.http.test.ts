import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPatient } from '../fixtures/seed.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'

/** conditional patch — https://hl7.org/fhir/R4/http.html#patch (PATCH [base]/[type]?[search]; JSON Patch and FHIRPath Patch) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const MRN = 'http://hospital.example.org/mrn'
const mrn = (value: string) => [{ system: MRN, value }]
const jsonPatch = (tenant: TestTenant, query: string, operations: unknown, headers: Record<string, string> = {}) =>
  tenant.request('PATCH', `/Patient?${query}`, { body: operations, headers: { 'content-type': 'application/json-patch+json', ...headers } })
const fhirPathPatch = {
  resourceType: 'Parameters',
  parameter: [
    {
      name: 'operation',
      part: [
        { name: 'type', valueCode: 'replace' },
        { name: 'path', valueString: 'Patient.birthDate' },
        { name: 'value', valueDate: '1999-09-09' },
      ],
    },
  ],
}

describe('conditional patch', () => {
  it('applies a JSON Patch to the one match (200, version 2)', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant, { identifier: mrn('p-1') })
    const res = await jsonPatch(tenant, `identifier=${MRN}|p-1`, [{ op: 'replace', path: '/active', value: false }])
    expect(res.statusCode, res.body).toBe(200)
    const patched = resourceOf<Patient>(res)
    expect(patched).toMatchObject({ id: p.id, active: false, meta: { versionId: '2' } })
    expect(res.headers.etag).toBe('W/"2"')
  })

  it('applies a FHIRPath Patch to the one match', async () => {
    const tenant = await t.newTenant()
    const p = await createPatient(tenant, { identifier: mrn('p-2') })
    const res = await tenant.request('PATCH', `/Patient?identifier=${MRN}|p-2`, { body: fhirPathPatch })
    expect(res.statusCode, res.body).toBe(200)
    expect(resourceOf<Patient>(res)).toMatchObject({ id: p.id, birthDate: '1999-09-09' })
  })

  it('answers 404 when nothing matches', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await jsonPatch(tenant, `identifier=${MRN}|nobody`, [{ op: 'replace', path: '/active', value: false }]), { status: 404, code: 'not-found' })
  })

  it('answers 412 multiple-matches and patches nothing when several match', async () => {
    const tenant = await t.newTenant()
    const a = await createPatient(tenant, { identifier: mrn('p-3') })
    await createPatient(tenant, { identifier: mrn('p-3') })
    expectOutcome(await jsonPatch(tenant, `identifier=${MRN}|p-3`, [{ op: 'replace', path: '/active', value: false }]), { status: 412, code: 'multiple-matches' })
    expect((await tenant.request('GET', `/Patient/${a.id}`)).headers.etag).toBe('W/"1"')
  })

  it('honours If-Match on the matched resource', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant, { identifier: mrn('p-4') })
    const stale = await jsonPatch(tenant, `identifier=${MRN}|p-4`, [{ op: 'replace', path: '/active', value: false }], { 'if-match': 'W/"3"' })
    expectOutcome(stale, { status: 412, code: /conflict|processing/ })
  })

  it('answers 400 for a body that is neither JSON Patch nor Parameters', async () => {
    const tenant = await t.newTenant()
    await createPatient(tenant, { identifier: mrn('p-5') })
    expectOutcome(await tenant.request('PATCH', `/Patient?identifier=${MRN}|p-5`, { body: { resourceType: 'Patient' } }), { status: 400, code: 'invalid', diagnostics: /JSON Patch/ })
  })

  it('answers 400 naming an unknown criterion', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await jsonPatch(tenant, 'eye-colour=green', []), { status: 400, code: 'invalid' })
    expect(outcome.issue[0]?.expression).toEqual(['eye-colour'])
  })

  it('never patches another tenant', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    const theirs = await createPatient(b, { identifier: mrn('p-x') })
    expectOutcome(await jsonPatch(a, `identifier=${MRN}|p-x`, [{ op: 'replace', path: '/active', value: false }]), { status: 404, code: 'not-found' })
    expect((await b.request('GET', `/Patient/${theirs.id}`)).headers.etag).toBe('W/"1"')
  })
})
