import type { Bundle, CapabilityStatement, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, linkPath } from '../setup/outcome.js'

/** search, system level — https://hl7.org/fhir/R4/search.html#searchcontexts (`GET [base]?_type=...`, `POST [base]/_search`) */
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
const refsOf = (bundle: Bundle, mode = 'match') =>
  (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => ref(e.resource!))
    .sort()

/** A Patient, its Observation and an Organization; `orgs` also holds the tenant's own Organization (made with the tenant). */
async function seed(tenant: TestTenant) {
  const patient = await post(tenant, makePatient())
  const obs = await post(tenant, makeObservation({ subject: { reference: `Patient/${patient.id}` } }))
  const org = await post(tenant, { resourceType: 'Organization', name: 'Clinic' })
  const orgs = (ok(await tenant.request('GET', '/Organization')).entry ?? []).map((e) => e.resource!)
  expect(orgs.map(ref)).toContain(ref(org))
  return { patient, obs, org, orgs }
}

describe('GET [base]?_type=...', () => {
  it('returns the resources of every listed type, with links of the form [base]?[params]', async () => {
    const tenant = await t.newTenant()
    const { patient, obs } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', '?_type=Patient,Observation'))
    expect(bundle.type).toBe('searchset')
    expect(refsOf(bundle)).toEqual(sorted(patient, obs))
    expect(bundle.total).toBe(2)
    const self = bundle.link?.find((l) => l.relation === 'self')?.url
    expect(self).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}\\?_type=Patient%2CObservation.*_count=20`))
  })

  it('searches every type with a common parameter when _type is absent', async () => {
    const tenant = await t.newTenant()
    const { org } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', `?_id=${org.id}`))
    expect(refsOf(bundle)).toEqual([ref(org)])
  })

  it('pages through next links that keep the [base]?[params] form', async () => {
    const tenant = await t.newTenant()
    const { patient, obs, orgs } = await seed(tenant)
    const seen: string[] = []
    let path: string | undefined = '?_type=Patient,Observation,Organization&_count=1'
    while (path) {
      const bundle = ok(await tenant.request('GET', path))
      seen.push(...refsOf(bundle))
      const next = bundle.link?.find((l) => l.relation === 'next')?.url
      if (next) expect(next.startsWith(`http://fhir.test/fhir/${tenant.tenantId}?`)).toBe(true)
      path = linkPath(bundle, 'next', tenant.tenantId)
    }
    expect(seen.sort()).toEqual(sorted(patient, obs, ...orgs))
  })

  it('adds _include targets as include entries', async () => {
    const tenant = await t.newTenant()
    const { patient, obs } = await seed(tenant)
    const bundle = ok(await tenant.request('GET', '?_type=Observation&_include=Observation:subject'))
    expect(refsOf(bundle)).toEqual([ref(obs)])
    expect(refsOf(bundle, 'include')).toEqual([ref(patient)])
  })

  it('answers 400 naming _type for a name that is not a resource type', async () => {
    const tenant = await t.newTenant()
    const outcome = expectOutcome(await tenant.request('GET', '?_type=Patient,Nope'), { status: 400, code: 'invalid' })
    expect(outcome.issue?.[0]?.expression).toEqual(['_type'])
  })
})

describe('POST [base]/_search', () => {
  it('takes the parameters from the form body', async () => {
    const tenant = await t.newTenant()
    const { patient } = await seed(tenant)
    const res = await tenant.request('POST', '/_search', {
      body: new URLSearchParams({ _type: 'Patient,Organization', _id: patient.id! }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(refsOf(ok(res))).toEqual([ref(patient)])
  })

  it('answers 405 to GET [base]/_search', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/_search'), { status: 405, code: 'not-supported' })
  })
})

describe('scopes and tenants', () => {
  it('refuses (403) a type the token may not search, and a search of every type without a * grant', async () => {
    const tenant = await t.newTenant({ scope: 'system/Patient.rs' })
    expect((await tenant.request('GET', '?_type=Patient')).statusCode).toBe(200)
    expectOutcome(await tenant.request('GET', '?_type=Patient,Observation'), { status: 403, code: 'forbidden' })
    expectOutcome(await tenant.request('GET', '?_id=x'), { status: 403, code: 'forbidden' })
  })

  it("never returns another tenant's resources, in both directions", async () => {
    const [a, b] = [await t.newTenant(), await t.newTenant()]
    const sa = await seed(a)
    const sb = await seed(b)
    expect(refsOf(ok(await a.request('GET', '?_type=Patient,Observation,Organization')))).toEqual(sorted(sa.patient, sa.obs, ...sa.orgs))
    expect(refsOf(ok(await b.request('GET', '?_type=Patient,Observation,Organization')))).toEqual(sorted(sb.patient, sb.obs, ...sb.orgs))
  })
})

describe('CapabilityStatement', () => {
  it('declares search-system and the compartments', async () => {
    const tenant = await t.newTenant()
    const rest = (await tenant.request('GET', '/metadata')).json<CapabilityStatement>().rest?.[0]
    expect(rest?.interaction).toContainEqual({ code: 'search-system' })
    expect(rest?.compartment).toContain('http://hl7.org/fhir/CompartmentDefinition/patient')
    expect(rest?.searchParam?.find((p) => p.name === '_type')).toMatchObject({ type: 'token', documentation: expect.stringContaining('same code and type') })
    expect(rest?.resource?.find((r) => r.type === 'Patient')?.searchParam?.some((p) => p.name === '_type')).toBe(false)
  })
})
