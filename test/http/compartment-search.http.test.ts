import type { Bundle, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, linkPath } from '../setup/outcome.js'
import { bearer, launch, newPublicApp, newUser } from './smart-flow.js'

/** search, compartment — https://hl7.org/fhir/R4/search.html#searchcontexts (`[base]/Patient/{id}/{type}`, `[base]/Patient/{id}/*`) */
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
const ref = (r: Resource) => `${r.resourceType}/${r.id}`
const sorted = (...resources: Resource[]) => resources.map(ref).sort()
const ok = (res: { statusCode: number; body: string; json: <T>() => T }): Bundle => {
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>()
}
const refsOf = (bundle: Bundle) => (bundle.entry ?? []).map((e) => ref(e.resource!)).sort()
const HR = { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }
const BP = { coding: [{ system: 'http://loinc.org', code: '85354-9' }] }

/** Patient P: an Observation as subject, one as performer, one heart rate and an Encounter; Patient Q: one Observation. */
async function seed(tenant: TestTenant) {
  const p = await post(tenant, makePatient())
  const q = await post(tenant, makePatient({ name: [{ family: 'Otro' }] }))
  const enc = await post(tenant, { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${p.id}` } })
  const asSubject = await post(tenant, makeObservation({ subject: { reference: `Patient/${p.id}` }, code: BP, encounter: { reference: `Encounter/${enc.id}` } }))
  const asPerformer = await post(tenant, makeObservation({ subject: { reference: `Patient/${q.id}` }, performer: [{ reference: `Patient/${p.id}` }], code: BP }))
  const heartRate = await post(tenant, makeObservation({ subject: { reference: `Patient/${p.id}` }, code: HR }))
  const others = await post(tenant, makeObservation({ subject: { reference: `Patient/${q.id}` }, code: HR }))
  return { p, q, enc, asSubject, asPerformer, heartRate, others }
}

describe('GET [base]/Patient/{id}/{type}', () => {
  it("returns the type's resources in the patient's compartment, by any of its parameters (subject, performer)", async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Patient/${s.p.id}/Observation`))
    expect(refsOf(bundle)).toEqual(sorted(s.asSubject, s.asPerformer, s.heartRate))
    expect(bundle.total).toBe(3)
  })

  it('ANDs the other parameters with the compartment', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Patient/${s.p.id}/Observation?code=http://loinc.org|8867-4`))
    expect(refsOf(bundle)).toEqual([ref(s.heartRate)])
  })

  it('pages through links of the form [base]/Patient/{id}/Observation?[params]', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const seen: string[] = []
    let path: string | undefined = `/Patient/${s.p.id}/Observation?_count=1`
    while (path) {
      const bundle = ok(await tenant.request('GET', path))
      seen.push(...refsOf(bundle))
      const next = bundle.link?.find((l) => l.relation === 'next')?.url
      if (next) expect(next).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/Patient/${s.p.id}/Observation\\?_count=1&_cursor=`))
      path = linkPath(bundle, 'next', tenant.tenantId)
    }
    expect(seen.sort()).toEqual(sorted(s.asSubject, s.asPerformer, s.heartRate))
  })

  it('answers POST [base]/Patient/{id}/Observation/_search with a form body', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const res = await tenant.request('POST', `/Patient/${s.p.id}/Observation/_search`, {
      body: 'code=http://loinc.org|85354-9',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(refsOf(ok(res))).toEqual(sorted(s.asSubject, s.asPerformer))
  })

  it('searches the Encounter compartment too', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    expect(refsOf(ok(await tenant.request('GET', `/Encounter/${s.enc.id}/Observation`)))).toEqual([ref(s.asSubject)])
  })

  it('answers 400 for a type that is never in the compartment, and 404 for a name that is not a type', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    expectOutcome(await tenant.request('GET', `/Patient/${s.p.id}/Practitioner`), { status: 400, code: 'invalid' })
    expectOutcome(await tenant.request('GET', `/Patient/${s.p.id}/Nothing`), { status: 404, code: 'not-found' })
  })

  it('leaves the instance routes that share its shape alone: _history, vread and operations', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    expect(ok(await tenant.request('GET', `/Patient/${s.p.id}/_history`)).type).toBe('history')
    expect((await tenant.request('GET', `/Patient/${s.p.id}/_history/1`)).json<Resource>().id).toBe(s.p.id)
    expect(ok(await tenant.request('GET', `/Patient/${s.p.id}/$everything`)).type).toBe('searchset')
  })
})

describe('GET [base]/Patient/{id}/*', () => {
  it('returns every resource of the compartment, the Patient itself included', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `/Patient/${s.p.id}/*`))
    expect(refsOf(bundle)).toEqual(sorted(s.p, s.enc, s.asSubject, s.asPerformer, s.heartRate))
    expect(bundle.entry?.every((e) => e.search?.mode === 'match')).toBe(true)
  })

  it('keeps the types named by _type and pages with links of the form [base]/Patient/{id}/*?[params]', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const seen: string[] = []
    let path: string | undefined = `/Patient/${s.p.id}/*?_type=Observation,Encounter&_count=2`
    while (path) {
      const bundle = ok(await tenant.request('GET', path))
      seen.push(...refsOf(bundle))
      const next = bundle.link?.find((l) => l.relation === 'next')?.url
      if (next) expect(next).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/Patient/${s.p.id}/\\*\\?_type=Observation%2CEncounter&_count=2&_cursor=`))
      path = linkPath(bundle, 'next', tenant.tenantId)
    }
    expect(seen.sort()).toEqual(sorted(s.enc, s.asSubject, s.asPerformer, s.heartRate))
  })

  it('refuses a parameter it does not support under Prefer: handling=strict', async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    expectOutcome(await tenant.request('GET', `/Patient/${s.p.id}/*?code=x`, { headers: { prefer: 'handling=strict' } }), { status: 400, code: 'invalid', messageId: 'MSG_PARAM_UNKNOWN' })
  })
})

describe('isolation', () => {
  it("never returns another tenant's resources for the same patient id, in both directions", async () => {
    const [a, b] = [await t.newTenant(), await t.newTenant()]
    const mine = []
    for (const tenant of [a, b]) {
      const put = await tenant.request('PUT', '/Patient/same-id', { body: makePatient({ id: 'same-id' }) })
      expect(put.statusCode, put.body).toBe(201)
      mine.push(await post(tenant, makeObservation({ subject: { reference: 'Patient/same-id' } })))
    }
    for (const [i, tenant] of [a, b].entries()) {
      expect(refsOf(ok(await tenant.request('GET', '/Patient/same-id/Observation')))).toEqual([ref(mine[i]!)])
      expect(refsOf(ok(await tenant.request('GET', '/Patient/same-id/*?_type=Observation')))).toEqual([ref(mine[i]!)])
    }
  })

  it("gives a patient token nothing of another patient's compartment", async () => {
    const tenant = await t.newTenant()
    const s = await seed(tenant)
    const clientId = await newPublicApp(t, tenant.tenantId)
    const user = await newUser(t, tenant.tenantId, 'patient', `Patient/${s.p.id}`)
    const { token } = await launch(t, { clientId, aud: `${t.config.baseUrl}/fhir/${tenant.tenantId}`, scope: 'launch/patient patient/*.rs', login: user.email, patient: s.p.id })
    const as = (path: string) => t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}${path}`, headers: bearer(token.access_token) })
    expect(refsOf(ok(await as(`/Patient/${s.p.id}/Observation?code=http://loinc.org|8867-4`)))).toEqual([ref(s.heartRate)])
    // Q's own Observation is not the token patient's; the one P performed is in both compartments.
    const theirs = ok(await as(`/Patient/${s.q.id}/Observation`))
    expect(refsOf(theirs)).not.toContain(ref(s.others))
    // All of another patient's compartment: answered like a read of that Patient (404), so no
    // paging link can tell how much it holds.
    const all = await as(`/Patient/${s.q.id}/*`)
    expect(all.statusCode, all.body).toBe(404)
    expect(all.body).not.toContain(s.others.id!)
    expect(ok(await as(`/Patient/${s.p.id}/*`)).entry?.length).toBeGreaterThan(0)
  })
})
