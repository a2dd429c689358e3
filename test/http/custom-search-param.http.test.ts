import type { Bundle, CapabilityStatement, SearchParameter } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { idsFound, measuredBy, nicknamed, nicknameParam, post, STRICT, techniqueParam } from '../fixtures/search-params.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome } from '../setup/outcome.js'

/**
 * Tenant-defined SearchParameter resources (https://hl7.org/fhir/R4/searchparameter.html): once
 * stored, a tenant's parameter indexes that tenant's new writes and is accepted by its searches;
 * other tenants never see it. Existing resources need $reindex (reindex.http.test.ts).
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const searchParamsOf = async (tenant: TestTenant, type: string) => {
  const res = await tenant.request('GET', '/metadata')
  expect(res.statusCode, res.body).toBe(200)
  return res.json<CapabilityStatement>().rest?.[0]?.resource?.find((r) => r.type === type)?.searchParam ?? []
}

describe('tenant SearchParameters: new writes and searches', () => {
  it('indexes a string parameter over an extension for Patients written after it, starts-with and :exact', async () => {
    const tenant = await t.newTenant()
    await post(tenant, nicknameParam())
    const pepe = await post(tenant, nicknamed('Pepe'))
    const pepa = await post(tenant, nicknamed('Pepa'))
    await post(tenant, nicknamed('Lola'))
    expect(await idsFound(tenant, '/Patient?nickname=pep', STRICT)).toEqual([pepe.id, pepa.id].sort())
    expect(await idsFound(tenant, '/Patient?nickname:exact=Pepa', STRICT)).toEqual([pepa.id])
    expect(await idsFound(tenant, '/Patient?nickname=pepe&gender=female', STRICT)).toEqual([pepe.id])
  })

  it('indexes a token parameter on Observation.method, with system|code and :not', async () => {
    const tenant = await t.newTenant()
    await post(tenant, techniqueParam())
    const auscultated = await post(tenant, measuredBy('37931006'))
    const palpated = await post(tenant, measuredBy('113011001'))
    expect(await idsFound(tenant, '/Observation?technique=37931006', STRICT)).toEqual([auscultated.id])
    expect(await idsFound(tenant, '/Observation?technique=http://snomed.info/sct|113011001', STRICT)).toEqual([palpated.id])
    expect(await idsFound(tenant, '/Observation?technique:not=37931006', STRICT)).toEqual([palpated.id])
  })

  it('sorts by a custom parameter', async () => {
    const tenant = await t.newTenant()
    await post(tenant, nicknameParam())
    const b = await post(tenant, nicknamed('Beto'))
    const a = await post(tenant, nicknamed('Ana'))
    const c = await post(tenant, nicknamed('Carla'))
    const res = await tenant.request('GET', '/Patient?_sort=-nickname')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json<Bundle>().entry?.map((e) => e.resource?.id)).toEqual([c.id, b.id, a.id])
  })

  it('never lets another tenant use it: 400 under strict handling, ignored (and left out of the self link) otherwise', async () => {
    const owner = await t.newTenant()
    const other = await t.newTenant()
    await post(owner, nicknameParam())
    const theirs = await post(other, nicknamed('Pepe'))
    const mine = await post(owner, nicknamed('Pepe'))
    expect(await idsFound(owner, '/Patient?nickname=pepe', STRICT)).toEqual([mine.id])
    const strict = expectOutcome(await other.request('GET', '/Patient?nickname=pepe', { headers: STRICT }), { status: 400, code: 'invalid', messageId: 'MSG_PARAM_UNKNOWN' })
    expect(strict.issue?.[0]?.expression).toEqual(['nickname'])
    const lenient = await other.request('GET', '/Patient?nickname=zzz')
    expect(lenient.statusCode, lenient.body).toBe(200)
    const bundle = lenient.json<Bundle>()
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual([theirs.id])
    expect(bundle.link?.find((l) => l.relation === 'self')?.url).toBe(`http://fhir.test/fhir/${other.tenantId}/Patient?_count=20`)
  })

  it('lists the custom parameters in that tenant’s CapabilityStatement only', async () => {
    const owner = await t.newTenant()
    const other = await t.newTenant()
    expect((await searchParamsOf(owner, 'Patient')).map((p) => p.name)).not.toContain('nickname')
    await post(owner, nicknameParam())
    expect(await searchParamsOf(owner, 'Patient')).toContainEqual(
      expect.objectContaining({ name: 'nickname', type: 'string', definition: 'https://clinic.example/fhir/SearchParameter/patient-nickname' }),
    )
    expect((await searchParamsOf(other, 'Patient')).map((p) => p.name)).not.toContain('nickname')
    expect((await searchParamsOf(owner, 'Patient')).map((p) => p.name)).toContain('name')
  })

  it('makes the parameter unknown again once the SearchParameter is deleted, and retired ones are not in force', async () => {
    const tenant = await t.newTenant()
    const sp = await post(tenant, nicknameParam())
    await post(tenant, nicknamed('Pepe'))
    expect(await idsFound(tenant, '/Patient?nickname=pepe', STRICT)).toHaveLength(1)
    expect((await tenant.request('DELETE', `/SearchParameter/${sp.id}`)).statusCode).toBe(204)
    expectOutcome(await tenant.request('GET', '/Patient?nickname=pepe', { headers: STRICT }), { status: 400, code: 'invalid', messageId: 'MSG_PARAM_UNKNOWN' })
    expect((await searchParamsOf(tenant, 'Patient')).map((p) => p.name)).not.toContain('nickname')
    await post(tenant, nicknameParam({ status: 'retired' }))
    expectOutcome(await tenant.request('GET', '/Patient?nickname=pepe', { headers: STRICT }), { status: 400, code: 'invalid', messageId: 'MSG_PARAM_UNKNOWN' })
  })

  it('applies an updated expression to the writes after the update', async () => {
    const tenant = await t.newTenant()
    const sp = await post(tenant, nicknameParam())
    const updated: SearchParameter = { ...sp, expression: 'Patient.name.given' }
    const res = await tenant.request('PUT', `/SearchParameter/${sp.id}`, { body: updated })
    expect(res.statusCode, res.body).toBe(200)
    const written = await post(tenant, nicknamed('Pepe', { name: [{ family: 'Ruiz', given: ['Josefina'] }] }))
    expect(await idsFound(tenant, '/Patient?nickname=josef', STRICT)).toEqual([written.id])
    expect(await idsFound(tenant, '/Patient?nickname=pepe', STRICT)).toEqual([])
  })

  it('takes effect inside the transaction Bundle that creates it', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:0f0e7c4e-7a1b-4a52-9b55-3a3c1a0b1c01', resource: nicknameParam(), request: { method: 'POST', url: 'SearchParameter' } },
        ],
      },
    })
    expect(res.statusCode, res.body).toBe(200)
    const pepe = await post(tenant, nicknamed('Pepe'))
    expect(await idsFound(tenant, '/Patient?nickname=pe', STRICT)).toEqual([pepe.id])
  })
})

describe('tenant SearchParameters: definitions that cannot work are 400 naming the element', () => {
  const cases: [string, Partial<SearchParameter>, string, RegExp][] = [
    ['an expression that does not parse', { expression: 'Patient.extension.where(' }, 'SearchParameter.expression', /not valid FHIRPath/],
    ['a code that collides with an R4 parameter of the base', { code: 'name' }, 'SearchParameter.code', /already a base parameter of Patient/],
    ['a code with a dot (chain syntax)', { code: 'nick.name' }, 'SearchParameter.code', /is not usable/],
    ['a special parameter, which has no index', { type: 'special' }, 'SearchParameter.type', /cannot be indexed/],
    ['an expression that selects nothing on its base', { expression: 'Observation.method' }, 'SearchParameter.base[0]', /selects nothing on base Patient/],
    ['a missing expression', { expression: undefined }, 'SearchParameter.expression', /is required/],
    ['a composite with an unknown component', { type: 'composite', expression: 'Patient', component: [{ definition: 'https://nowhere.example/sp/x', expression: 'name' }, { definition: 'http://hl7.org/fhir/SearchParameter/Patient-gender', expression: 'gender' }] }, 'SearchParameter.component[0].definition', /not a SearchParameter known/],
    ['a reference target that is not a resource type', { type: 'reference', expression: 'Patient.generalPractitioner', target: ['Doctor' as 'Practitioner'] }, 'SearchParameter.target[0]', /required ValueSet http:\/\/hl7.org\/fhir\/ValueSet\/resource-types/],
  ]
  for (const [title, overrides, element, message] of cases) {
    it(`refuses ${title}`, async () => {
      const tenant = await t.newTenant()
      const res = await tenant.request('POST', '/SearchParameter', { body: nicknameParam(overrides) })
      expect(res.statusCode, res.body).toBe(400)
      const issues = res.json<{ issue: { expression?: string[]; diagnostics?: string }[] }>().issue
      const issue = issues.find((i) => i.expression?.includes(element))
      expect(issue, res.body).toBeDefined()
      // The structural validator answers the target first (a required binding); search-param-check.ts the rest.
      expect(issue?.diagnostics).toMatch(message)
    })
  }

  it('refuses a second parameter with the same code on the same base, but accepts a new version of the same one', async () => {
    const tenant = await t.newTenant()
    const first = await post(tenant, nicknameParam())
    const clash = await tenant.request('POST', '/SearchParameter', { body: nicknameParam({ url: 'https://other.example/sp/nick' }) })
    const outcome = expectOutcome(clash, { status: 400, code: 'invalid', diagnostics: new RegExp(`SearchParameter/${first.id}`) })
    expect(outcome.issue?.[0]?.expression).toEqual(['SearchParameter.code'])
    const again = await tenant.request('PUT', `/SearchParameter/${first.id}`, { body: { ...first, url: 'https://clinic.example/sp/nickname-v2', description: 'v2' } })
    expect(again.statusCode, again.body).toBe(200)
  })

  it('accepts the same code in another tenant', async () => {
    await post(await t.newTenant(), nicknameParam())
    await post(await t.newTenant(), nicknameParam({ url: 'https://other.example/sp/nick' }))
  })
})

describe('tenant SearchParameters across server instances', () => {
  it('reach another instance within its refresh interval (1 s by default)', async () => {
    const second = await buildTestApp()
    try {
      const tenant = await t.newTenant()
      const elsewhere: TestTenant = {
        ...tenant,
        request: (method, path, opts = {}) =>
          second.app.inject({
            method,
            url: `/fhir/${tenant.tenantId}${path}`,
            headers: { authorization: `Bearer ${tenant.token}`, ...(opts.body ? { 'content-type': 'application/fhir+json' } : {}), ...opts.headers },
            payload: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          }),
      }
      // The second instance caches the tenant's registry (no custom parameter yet)...
      expectOutcome(await elsewhere.request('GET', '/Patient?nickname=pepe', { headers: STRICT }), { status: 400, code: 'invalid' })
      await post(tenant, nicknameParam())
      const pepe = await post(tenant, nicknamed('Pepe'))
      // ...and revalidates it (one query: the SearchParameter history moved) after at most 1 s.
      await new Promise((r) => setTimeout(r, 1100))
      expect(await idsFound(elsewhere, '/Patient?nickname=pepe', STRICT)).toEqual([pepe.id])
    } finally {
      await second.close()
    }
  })
})
