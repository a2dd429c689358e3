import type { Bundle, CapabilityStatement, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, linkPath } from '../setup/outcome.js'
import { bearer, launch, newPublicApp, newUser } from './smart-flow.js'

/** $everything — https://hl7.org/fhir/R4/patient-operation-everything.html (and Encounter/$everything) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function post<T extends Resource = Resource>(tenant: TestTenant, body: Resource | string, type?: string): Promise<T> {
  const res = await tenant.request('POST', `/${type ?? (body as Resource).resourceType}`, { body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json<T>()
}
const ref = (r: Resource) => `${r.resourceType}/${r.id}`
const sorted = (...resources: Resource[]) => resources.map(ref).sort()
const refsOf = (bundle: Bundle, mode: 'match' | 'include') =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => ref(e.resource!))
    .sort()
const ok = (res: { statusCode: number; body: string; json: <T>() => T }): Bundle => {
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>()
}

/**
 * Patient P with an Encounter, two Observations, a MedicationRequest and a Condition, pointing at a
 * Practitioner, an Organization, a Location and a Medication; Patient Q with one Observation.
 */
async function seed(tenant: TestTenant) {
  const org = await post(tenant, { resourceType: 'Organization', name: 'Clinic' })
  const dr = await post(tenant, { resourceType: 'Practitioner', name: [{ family: 'House' }] })
  const loc = await post(tenant, { resourceType: 'Location', name: 'Room 1' })
  const med = await post(tenant, { resourceType: 'Medication', code: { text: 'Ibuprofen' } })
  const p = await post(tenant, makePatient({ generalPractitioner: [{ reference: `Practitioner/${dr.id}` }], managingOrganization: { reference: `Organization/${org.id}` } }))
  const q = await post(tenant, makePatient({ name: [{ family: 'Otro' }] }))
  const subject = { reference: `Patient/${p.id}` }
  const e1 = await post(tenant, {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject,
    participant: [{ individual: { reference: `Practitioner/${dr.id}` } }],
    location: [{ location: { reference: `Location/${loc.id}` } }],
    period: { start: '2023-01-10T09:00:00Z', end: '2023-01-10T10:00:00Z' },
  })
  // Sent as text so the stored decimal keeps its trailing zero.
  const o1 = await post(
    tenant,
    JSON.stringify(makeObservation({ subject, encounter: { reference: `Encounter/${e1.id}` }, effectiveDateTime: '2023-01-10T09:30:00Z', performer: [{ reference: `Practitioner/${dr.id}` }] })).replace(
      '"value":72',
      '"value":72.50',
    ),
    'Observation',
  )
  const o2 = await post(tenant, makeObservation({ subject, effectiveDateTime: '2024-06-01T08:00:00Z' }))
  const mr = await post(tenant, {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    subject,
    medicationReference: { reference: `Medication/${med.id}` },
    authoredOn: '2024-02-02',
    requester: { reference: `Practitioner/${dr.id}` },
  })
  const c = await post(tenant, {
    resourceType: 'Condition',
    subject,
    encounter: { reference: `Encounter/${e1.id}` },
    onsetDateTime: '2022-05-05',
    code: { text: 'Headache' },
  })
  const oq = await post(tenant, makeObservation({ subject: { reference: `Patient/${q.id}` } }))
  return { org, dr, loc, med, p, q, e1, o1, o2, mr, c, oq }
}

describe('Patient/$everything', () => {
  it('returns the compartment as matches and the Practitioner, Organization, Location and Medication it refers to as includes', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const res = await tenant.request('GET', `/Patient/${s.p.id}/$everything`)
    const bundle = ok(res)
    expect(bundle.type).toBe('searchset')
    expect(refsOf(bundle, 'match')).toEqual(sorted(s.p, s.e1, s.o1, s.o2, s.mr, s.c))
    expect(refsOf(bundle, 'include')).toEqual(sorted(s.dr, s.org, s.loc, s.med))
    expect(res.body).toContain('"value":72.50')
    expect(bundle.entry?.find((e) => e.resource?.id === s.p.id)?.fullUrl).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient/${s.p.id}`)
  })

  it('pages with _count through next links of the form [base]/Patient/{id}/$everything?..., without gaps or repeats', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const seen: string[] = []
    let path: string | undefined = `/Patient/${s.p.id}/$everything?_count=2`
    let pages = 0
    while (path) {
      const bundle = ok(await tenant.request('GET', path))
      const matches = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match')
      expect(matches.length).toBeLessThanOrEqual(2)
      seen.push(...matches.map((e) => ref(e.resource!)))
      const next = bundle.link?.find((l) => l.relation === 'next')?.url
      if (next) expect(next).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/Patient/${s.p.id}/\\$everything\\?_count=2&_cursor=[A-Za-z0-9_-]+$`))
      path = linkPath(bundle, 'next', tenant.tenantId)
      pages++
    }
    expect(pages).toBe(3)
    expect(seen).toHaveLength(6)
    expect([...seen].sort()).toEqual(sorted(s.p, s.e1, s.o1, s.o2, s.mr, s.c))
  })

  it('keeps only the types named by _type (supporting resources too)', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything?_type=Observation,Patient,Medication`))
    expect(refsOf(bundle, 'match')).toEqual(sorted(s.p, s.o1, s.o2))
    expect(refsOf(bundle, 'include')).toEqual([])
    const withMedication = ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything?_type=MedicationRequest,Medication`))
    expect(refsOf(withMedication, 'match')).toEqual(sorted(s.mr))
    expect(refsOf(withMedication, 'include')).toEqual(sorted(s.med))
  })

  it('filters by care date with start and end, keeping resources that have none (the Patient)', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const fromTwentyFour = ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything?start=2024-01-01`))
    expect(refsOf(fromTwentyFour, 'match')).toEqual(sorted(s.p, s.o2, s.mr))
    const untilTwentyThree = ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything?end=2023`))
    expect(refsOf(untilTwentyThree, 'match')).toEqual(sorted(s.p, s.e1, s.o1, s.c))
    const twentyThree = ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything?start=2023-01-01&end=2023-12-31`))
    expect(refsOf(twentyThree, 'match')).toEqual(sorted(s.p, s.e1, s.o1))
  })

  it('returns only what changed at or after _since', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    await new Promise((r) => setTimeout(r, 5))
    const since = new Date().toISOString()
    const put = await tenant.request('PUT', `/Observation/${s.o2.id}`, { body: { ...s.o2, status: 'amended' } })
    expect(put.statusCode, put.body).toBe(200)
    const bundle = ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything?_since=${encodeURIComponent(since)}`))
    expect(refsOf(bundle, 'match')).toEqual([ref(s.o2)])
  })

  it('takes its parameters from a Parameters body on POST', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const res = await tenant.request('POST', `/Patient/${s.p.id}/$everything`, {
      body: { resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Condition' }, { name: 'start', valueDate: '2022-01-01' }] },
    })
    expect(refsOf(ok(res), 'match')).toEqual([ref(s.c)])
  })

  it('covers every patient at type level', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const bundle = ok(await tenant.request('GET', '/Patient/$everything?_count=1000'))
    expect(refsOf(bundle, 'match')).toEqual(sorted(s.p, s.e1, s.o1, s.o2, s.mr, s.c, s.q, s.oq))
  })

  it('answers 400 naming the parameter for a bad start, _type, _count or _cursor, and 404 for an unknown patient', async () => {
    const tenant = await t.newTenant()
    const p = await post(tenant, makePatient())
    for (const [query, name] of [
      ['start=2024-13-01', 'start'],
      ['_type=Nope', '_type'],
      ['_count=many', '_count'],
      ['_cursor=%25%25', '_cursor'],
    ] as const) {
      const outcome = expectOutcome(await tenant.request('GET', `/Patient/${p.id}/$everything?${query}`), { status: 400, code: 'invalid' })
      expect(outcome.issue?.[0]?.expression, query).toContain(name)
    }
    expectOutcome(await tenant.request('GET', '/Patient/nobody/$everything'), { status: 404, code: 'not-found' })
  })
})

describe('Encounter/$everything', () => {
  it('returns the encounter compartment and the Patient, Practitioner and Location it refers to', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Encounter/${s.e1.id}/$everything`))
    expect(refsOf(bundle, 'match')).toEqual(sorted(s.e1, s.o1, s.c))
    expect(refsOf(bundle, 'include')).toEqual(sorted(s.p, s.dr, s.loc))
  })
})

describe('tenant isolation', () => {
  it("never mixes in the other tenant's resources, in both directions", async () => {
    const [a, b] = [await t.newTenant(), await t.newTenant()]
    const records = []
    for (const tenant of [a, b]) {
      const put = await tenant.request('PUT', '/Patient/same-id', { body: makePatient({ id: 'same-id' }) })
      expect(put.statusCode, put.body).toBe(201)
      records.push(await post(tenant, makeObservation({ subject: { reference: 'Patient/same-id' } })))
    }
    for (const [i, tenant] of [a, b].entries()) {
      const bundle = ok(await tenant.request('GET', '/Patient/same-id/$everything'))
      expect(refsOf(bundle, 'match')).toEqual(['Patient/same-id', ref(records[i]!)].sort())
    }
  })
})

describe('patient token', () => {
  async function setup() {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const clientId = await newPublicApp(t, tenant.tenantId)
    const user = await newUser(t, tenant.tenantId, 'patient', `Patient/${s.p.id}`)
    const { token } = await launch(t, { clientId, aud: `${t.config.baseUrl}/fhir/${tenant.tenantId}`, scope: 'launch/patient patient/*.rs', login: user.email, patient: s.p.id })
    const as = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}${path}`, headers: bearer(token.access_token) })
    // Signing in wrote AuditEvents naming the patient: they are in its compartment too.
    const audits = ok(await tenant.request('GET', `/AuditEvent?patient=Patient/${s.p.id}`)).entry?.map((e) => e.resource!) ?? []
    expect(audits.length).toBeGreaterThan(0)
    const record = sorted(s.p, s.e1, s.o1, s.o2, s.mr, s.c, ...audits)
    return { s, as, record }
  }

  it('gets its own record, and 404 for another patient', async () => {
    const { s, as, record } = await setup()
    const own = ok(await as(`/Patient/${s.p.id}/$everything`))
    expect(refsOf(own, 'match')).toEqual(record)
    // Practitioner, Organization… are outside its compartment: a patient/ scope does not reach them.
    expect(refsOf(own, 'include')).toEqual([])
    expectOutcome(await as(`/Patient/${s.q.id}/$everything`), { status: 404, code: 'not-found' })
  })

  it('gets only its own patient at type level', async () => {
    const { as, record } = await setup()
    const bundle = ok(await as('/Patient/$everything'))
    expect(refsOf(bundle, 'match')).toEqual(record)
  })
})

describe('CapabilityStatement', () => {
  it('declares $everything on Patient and Encounter', async () => {
    const tenant = await t.newTenant()
    const cs = (await tenant.request('GET', '/metadata')).json<CapabilityStatement>()
    const ops = (type: string) => cs.rest?.[0]?.resource?.find((r) => r.type === type)?.operation ?? []
    expect(ops('Patient')).toContainEqual({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' })
    expect(ops('Encounter')).toContainEqual({ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Encounter-everything' })
    expect(ops('Observation').map((o) => o.name)).not.toContain('everything')
  })
})
