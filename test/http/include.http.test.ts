import type { Bundle, CapabilityStatement, BundleEntry, Observation, OperationOutcome, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'
import { bearer, launch, newClinic, newPublicApp, newUser } from './smart-flow.js'

/** _include / _revinclude — https://hl7.org/fhir/R4/search.html#include */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function post<T extends Resource = Resource>(tenant: TestTenant, body: Resource): Promise<T> {
  const res = await tenant.request('POST', `/${body.resourceType}`, { body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json<T>()
}

/** A small record: two Observations of one Patient, performed by a Practitioner and an Organization; the Patient managed by another Organization. */
async function seed(tenant: TestTenant) {
  const clinic = await post(tenant, { resourceType: 'Organization', name: 'Clinic' })
  const lab = await post(tenant, { resourceType: 'Organization', name: 'Lab' })
  const doctor = await post(tenant, { resourceType: 'Practitioner', name: [{ family: 'House' }] })
  const patient = await post(tenant, makePatient({ managingOrganization: { reference: `Organization/${clinic.id}` } }))
  const o1 = await post(tenant, makeObservation({ subject: { reference: `Patient/${patient.id}` }, performer: [{ reference: `Practitioner/${doctor.id}` }, { reference: `Organization/${lab.id}` }] }))
  const o2 = await post(tenant, makeObservation({ subject: { reference: `Patient/${patient.id}` }, hasMember: [{ reference: `Observation/${o1.id}` }] }))
  return { clinic, lab, doctor, patient, o1, o2 }
}

const ok = (res: { statusCode: number; body: string; json: <T>() => T }): Bundle => {
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>()
}
const ref = (r: Resource) => `${r.resourceType}/${r.id}`
const refsOf = (bundle: Bundle, mode: 'match' | 'include') =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => ref(e.resource!))
    .sort()
const sorted = (...resources: Resource[]) => resources.map(ref).sort()
const selfLink = (bundle: Bundle) => bundle.link?.find((l) => l.relation === 'self')?.url

describe('_include', () => {
  it('adds the referenced Patient once, as an include entry, after the matches', async () => {
    const tenant = await t.newTenant()
    const { patient, o1, o2 } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', '/Observation?_include=Observation:subject'))
    expect(refsOf(bundle, 'match')).toEqual(sorted(o1, o2))
    expect(refsOf(bundle, 'include')).toEqual([ref(patient)])
    expect(bundle.total).toBe(2)
    expect(bundle.entry?.map((e) => e.search?.mode)).toEqual(['match', 'match', 'include'])
    expect(bundle.entry?.[2]?.fullUrl).toBe(`http://fhir.test/fhir/${tenant.tenantId}/${ref(patient)}`)
    expect(selfLink(bundle)).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Observation?_include=Observation%3Asubject&_count=20`)
  })

  it('restricts a parameter with several target types to Type:param:TargetType', async () => {
    const tenant = await t.newTenant()
    const { doctor, lab, o1 } = await seed(tenant)
    const all = ok(await tenant.request('GET', `/Observation?_id=${o1.id}&_include=Observation:performer`))
    expect(refsOf(all, 'include')).toEqual(sorted(doctor, lab))
    const onlyPractitioners = ok(await tenant.request('GET', `/Observation?_id=${o1.id}&_include=Observation:performer:Practitioner`))
    expect(refsOf(onlyPractitioners, 'include')).toEqual([ref(doctor)])
  })

  it('follows every reference parameter for Type:* and for a bare *', async () => {
    const tenant = await t.newTenant()
    const { doctor, lab, patient, o1 } = await seed(tenant)
    for (const value of ['Observation:*', '*']) {
      const bundle = ok(await tenant.request('GET', `/Observation?_id=${o1.id}&_include=${encodeURIComponent(value)}`))
      expect(refsOf(bundle, 'include'), value).toEqual(sorted(doctor, lab, patient))
    }
  })

  it('lists a resource that is both a match and referenced only once, as a match', async () => {
    const tenant = await t.newTenant()
    const { o1, o2 } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', '/Observation?_include=Observation:has-member'))
    expect(refsOf(bundle, 'match')).toEqual(sorted(o1, o2))
    expect(refsOf(bundle, 'include')).toEqual([])
  })

  it('applies a directive to included resources only with :iterate (or :recurse)', async () => {
    const tenant = await t.newTenant()
    const { patient, clinic, o1 } = await seed(tenant)
    const plain = ok(await tenant.request('GET', `/Observation?_id=${o1.id}&_include=Observation:subject&_include=Patient:organization`))
    expect(refsOf(plain, 'include')).toEqual([ref(patient)])
    for (const modifier of ['iterate', 'recurse']) {
      const bundle = ok(await tenant.request('GET', `/Observation?_id=${o1.id}&_include=Observation:subject&_include:${modifier}=Patient:organization`))
      expect(refsOf(bundle, 'include'), modifier).toEqual(sorted(clinic, patient))
    }
  })

  it('never includes a deleted resource', async () => {
    const tenant = await t.newTenant()
    const { doctor, lab, o1 } = await seed(tenant)
    expect((await tenant.request('DELETE', `/Practitioner/${doctor.id}`)).statusCode).toBe(204)
    const bundle = ok(await tenant.request('GET', `/Observation?_id=${o1.id}&_include=Observation:performer`))
    expect(refsOf(bundle, 'include')).toEqual([ref(lab)])
  })
})

describe('_revinclude', () => {
  it('adds the Observations that refer to the matched Patient', async () => {
    const tenant = await t.newTenant()
    const { patient, o1, o2 } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Patient?_id=${patient.id}&_revinclude=Observation:subject`))
    expect(refsOf(bundle, 'match')).toEqual([ref(patient)])
    expect(refsOf(bundle, 'include')).toEqual(sorted(o1, o2))
    expect(bundle.total).toBe(1)
  })

  it('iterates from included resources with _revinclude:iterate', async () => {
    const tenant = await t.newTenant()
    const { clinic, patient, o1, o2 } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Organization?_id=${clinic.id}&_revinclude=Patient:organization&_revinclude:iterate=Observation:subject`))
    expect(refsOf(bundle, 'include')).toEqual(sorted(o1, o2, patient))
  })

  it('stops at the per-page bound and says so in an OperationOutcome entry', async () => {
    const tenant = await t.newTenant()
    const patient = await post(tenant, makePatient())
    const count = 1001
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: count }, () => ({
        resource: makeObservation({ subject: { reference: `Patient/${patient.id}` } }),
        request: { method: 'POST', url: 'Observation' },
      })),
    }
    const written = await tenant.request('POST', '', { body: bundle })
    expect(written.statusCode, written.body.slice(0, 500)).toBe(200)
    const page = ok(await tenant.request('GET', `/Patient?_id=${patient.id}&_revinclude=Observation:subject`))
    const included = (page.entry ?? []).filter((e) => e.search?.mode === 'include')
    expect(included).toHaveLength(1000)
    expect(new Set(included.map((e) => e.resource?.id)).size).toBe(1000)
    const outcome = (page.entry ?? []).find((e: BundleEntry) => e.search?.mode === 'outcome')?.resource as OperationOutcome | undefined
    expect(outcome?.issue?.[0]).toMatchObject({ severity: 'warning', code: 'too-costly' })
    expect(outcome?.issue?.[0]?.diagnostics).toMatch(/first 1000/)
  }, 60_000)
})

describe('include directives the server does not know', () => {
  it('ignores an unknown parameter and leaves it out of the self link', async () => {
    const tenant = await t.newTenant()
    const { o1, o2 } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', '/Observation?_include=Observation:nonsense&_include=Observation:subject'))
    expect(refsOf(bundle, 'match')).toEqual(sorted(o1, o2))
    expect(refsOf(bundle, 'include')).toHaveLength(1)
    expect(selfLink(bundle)).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Observation?_include=Observation%3Asubject&_count=20`)
  })

  it('refuses an unknown parameter, a non-reference parameter or an impossible target with 400 under Prefer: handling=strict', async () => {
    const tenant = await t.newTenant()
    for (const [value, words] of [
      ['Observation:nonsense', /nonsense/],
      ['Observation:code', /code.*token parameter, not a reference/],
      ['Observation:subject:Medication', /never refers to a Medication/],
      ['Nothing:subject', /'Nothing' is not a resource type/],
    ] as const) {
      const res = await tenant.request('GET', `/Observation?_include=${value}`, { headers: { prefer: 'handling=strict' } })
      const outcome = expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_PARAM_UNKNOWN' })
      expect(outcome.issue?.[0]?.diagnostics, value).toMatch(words)
      expect(outcome.issue?.[0]?.expression).toEqual(['_include'])
    }
    const reverse = await tenant.request('GET', '/Patient?_revinclude=*', { headers: { prefer: 'handling=strict' } })
    expectOutcome(reverse, { status: 400, code: 'invalid', diagnostics: /bare wildcard is not supported for _revinclude/ })
  })

  it('answers 400 for a value that is not an include directive at all', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await tenant.request('GET', '/Observation?_include=subject'), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.diagnostics).toMatch(/Type:param/)
  })
})

describe('tenant isolation', () => {
  it('includes and revincludes only the tenant’s own resources, in both directions', async () => {
    const [a, b] = [await t.newTenant(), await t.newTenant()]
    // The same Patient id in both tenants, each with its own Observation.
    for (const [tenant, family] of [[a, 'Alpha'], [b, 'Beta']] as const) {
      const put = await tenant.request('PUT', '/Patient/shared-1', { body: makePatient({ id: 'shared-1', name: [{ family }] }) })
      expect(put.statusCode, put.body).toBe(201)
      await post(tenant, makeObservation({ subject: { reference: 'Patient/shared-1' }, note: [{ text: family }] }))
    }
    for (const [tenant, family] of [[a, 'Alpha'], [b, 'Beta']] as const) {
      const forward = ok(await tenant.request('GET', '/Observation?_include=Observation:subject'))
      const patients = (forward.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => (e.resource as { name?: { family?: string }[] }).name?.[0]?.family)
      expect(patients).toEqual([family])
      const reverse = ok(await tenant.request('GET', '/Patient?_revinclude=Observation:subject'))
      const notes = (reverse.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => (e.resource as Observation).note?.[0]?.text)
      expect(notes).toEqual([family])
    }
  })
})

describe('patient token', () => {
  async function setup() {
    const clinic = await newClinic(t)
    const me = clinic.patient
    const other = await post(clinic.tenant, makePatient({ name: [{ family: 'Otro' }] }))
    // Mine, but it names the other patient as a performer; theirs points at mine through hasMember.
    const mine = await post(clinic.tenant, makeObservation({ subject: { reference: `Patient/${me.id}` }, performer: [{ reference: `Patient/${other.id}` }] }))
    const theirs = await post(clinic.tenant, makeObservation({ subject: { reference: `Patient/${other.id}` }, hasMember: [{ reference: `Observation/${mine.id}` }] }))
    const clientId = await newPublicApp(t, clinic.tenant.tenantId)
    const user = await newUser(t, clinic.tenant.tenantId, 'patient', `Patient/${me.id}`)
    const { token } = await launch(t, { clientId, aud: clinic.aud, scope: 'launch/patient patient/*.rs', login: user.email })
    const as = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${clinic.tenant.tenantId}${path}`, headers: bearer(token.access_token) })
    return { clinic, me, other, mine, theirs, as }
  }

  it("cannot _include another patient's Patient", async () => {
    const { clinic, me, other, mine, as } = await setup()
    const path = `/Observation?_id=${mine.id}&_include=Observation:subject&_include=Observation:performer`
    // The system token sees both patients, so the directive does reach the other one...
    expect(refsOf(ok(await clinic.tenant.request('GET', path)), 'include')).toEqual(sorted(me, other))
    // ...and the patient token only its own.
    expect(refsOf(ok(await as(path)), 'include')).toEqual([ref(me)])
  })

  it("cannot _revinclude another patient's Observation", async () => {
    const { clinic, mine, theirs, as } = await setup()
    const path = `/Observation?_id=${mine.id}&_revinclude=Observation:has-member`
    expect(refsOf(ok(await clinic.tenant.request('GET', path)), 'include')).toEqual([ref(theirs)])
    const bundle = ok(await as(path))
    expect(refsOf(bundle, 'match')).toEqual([ref(mine)])
    expect(refsOf(bundle, 'include')).toEqual([])
  })
})

describe('CapabilityStatement', () => {
  it('declares searchInclude and searchRevInclude per type', async () => {
    const tenant = await t.newTenant()
    const cs = (await tenant.request('GET', '/metadata')).json<CapabilityStatement>()
    const of = (type: string) => cs.rest?.[0]?.resource?.find((r) => r.type === type)
    expect(of('Observation')?.searchInclude).toEqual(expect.arrayContaining(['Observation:subject', 'Observation:performer', 'Observation:*', '*']))
    expect(of('Patient')?.searchRevInclude).toEqual(expect.arrayContaining(['Observation:subject', 'Encounter:subject', 'Patient:link']))
    expect(of('Patient')?.searchRevInclude).not.toContain('Observation:code')
  })
})
