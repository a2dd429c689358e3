import type { Bundle, Observation, Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'

/** search over HTTP — https://hl7.org/fhir/R4/search.html (the searchset Bundle, links, errors) */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

async function createAll(tenant: TestTenant, resources: (Patient | Observation)[]): Promise<string[]> {
  const ids: string[] = []
  for (const body of resources) {
    const res = await tenant.request('POST', `/${body.resourceType}`, { body })
    expect(res.statusCode, res.body).toBe(201)
    ids.push(resourceOf(res).id!)
  }
  return ids
}
const bundleOf = (res: { statusCode: number; body: string; json: <T>() => T }) => {
  expect(res.statusCode, res.body).toBe(200)
  return res.json<Bundle>()
}
const link = (bundle: Bundle, relation: string) => bundle.link?.find((l) => l.relation === relation)?.url
const path = (url: string | undefined, tenant: TestTenant) => url!.replace(`http://fhir.test/fhir/${tenant.tenantId}`, '')

describe('search (HTTP)', () => {
  it('answers a searchset with total, match entries and a self link listing only the parameters used', async () => {
    const tenant = await t.newTenant()
    const [jose] = await createAll(tenant, [makePatient({ name: [{ family: 'Pérez', given: ['José'] }] }), makePatient({ name: [{ family: 'Smith' }] })])
    const bundle = bundleOf(await tenant.request('GET', '/Patient?name=jose&colour=blue'))
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 })
    expect(bundle.entry).toEqual([expect.objectContaining({ fullUrl: `http://fhir.test/fhir/${tenant.tenantId}/Patient/${jose}`, search: { mode: 'match' } })])
    expect(link(bundle, 'self')).toBe(`http://fhir.test/fhir/${tenant.tenantId}/Patient?name=jose&_count=20`)
    expect(link(bundle, 'first')).toBe(link(bundle, 'self'))
    expect(link(bundle, 'next')).toBeUndefined()
  })

  it('refuses an unknown parameter with 400 MSG_PARAM_UNKNOWN under Prefer: handling=strict', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('GET', '/Patient?colour=blue', { headers: { prefer: 'handling=strict' } })
    const outcome = expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_PARAM_UNKNOWN' })
    expect(outcome.issue?.[0]?.expression).toEqual(['colour'])
  })

  it('answers 400 naming the parameter for a malformed date, number, prefix or modifier', async () => {
    const tenant = await t.newTenant()
    for (const [query, name] of [
      ['/Observation?date=2024-13-01', 'date'],
      ['/Observation?value-quantity=abc', 'value-quantity'],
      ['/Patient?birthdate=zz2024', 'birthdate'],
      ['/Patient?gender:exact=male', 'gender:exact'],
      ['/Patient?_count=many', '_count'],
    ] as const) {
      const outcome = expectOutcome(await tenant.request('GET', query), { status: 400, code: 'invalid' })
      expect(outcome.issue?.[0]?.expression, query).toEqual([name])
    }
  })

  it('pages through next links that keep the [base]/[type]?[params] form, and back through previous links', async () => {
    const tenant = await t.newTenant()
    const ids = await createAll(tenant, Array.from({ length: 7 }, (_, i) => makePatient({ birthDate: `19${60 + i}-05-05` })))
    const seen: string[] = []
    const pages: Bundle[] = []
    let url: string | undefined = '/Patient?_sort=-birthdate&_count=3'
    while (url) {
      const bundle = bundleOf(await tenant.request('GET', url))
      expect(bundle.total).toBe(7)
      pages.push(bundle)
      seen.push(...(bundle.entry ?? []).map((e) => e.resource!.id!))
      const next = link(bundle, 'next')
      if (next) expect(next).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/Patient\\?_sort=-birthdate&_count=3&_cursor=[A-Za-z0-9_-]+$`))
      url = next && path(next, tenant)
    }
    expect(seen).toEqual([...ids].reverse())
    const back = bundleOf(await tenant.request('GET', path(link(pages[2]!, 'previous'), tenant)))
    expect(back.entry?.map((e) => e.resource!.id)).toEqual(pages[1]!.entry?.map((e) => e.resource!.id))
  })

  it('answers POST [type]/_search with a form body like the GET search', async () => {
    const tenant = await t.newTenant()
    const [male] = await createAll(tenant, [makePatient({ gender: 'male' }), makePatient({ gender: 'female' })])
    const res = await tenant.request('POST', '/Patient/_search', {
      body: 'gender=male&_total=accurate',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    const bundle = bundleOf(res)
    expect(bundle.total).toBe(1)
    expect(bundle.entry?.map((e) => e.resource!.id)).toEqual([male])
  })

  it('answers _summary=count with the total and no entries, and _total=none without a total', async () => {
    const tenant = await t.newTenant()
    await createAll(tenant, [makePatient(), makePatient()])
    const count = bundleOf(await tenant.request('GET', '/Patient?_summary=count'))
    expect(count.total).toBe(2)
    expect(count.entry).toBeUndefined()
    const none = bundleOf(await tenant.request('GET', '/Patient?_total=none'))
    expect(none.total).toBeUndefined()
    expect(none.entry).toHaveLength(2)
  })

  it('shapes entries with _elements and _summary=true, marking them SUBSETTED', async () => {
    const tenant = await t.newTenant()
    await createAll(tenant, [makePatient({ gender: 'male', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } })])
    const elements = bundleOf(await tenant.request('GET', '/Patient?_elements=gender'))
    const resource = elements.entry?.[0]?.resource as Patient
    expect(resource.gender).toBe('male')
    expect(resource.name).toBeUndefined()
    expect(resource.meta?.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }))
    const summary = bundleOf(await tenant.request('GET', '/Patient?_summary=true'))
    expect((summary.entry?.[0]?.resource as Patient).text).toBeUndefined()
  })

  it('matches an absolute reference on this server as the local resource', async () => {
    const tenant = await t.newTenant()
    const base = `http://fhir.test/fhir/${tenant.tenantId}`
    const [patient] = await createAll(tenant, [makePatient()])
    const [obs] = await createAll(tenant, [
      { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `${base}/Patient/${patient}` } },
    ])
    for (const value of [patient!, `Patient/${patient}`, `${base}/Patient/${patient}`]) {
      const bundle = bundleOf(await tenant.request('GET', `/Observation?subject=${encodeURIComponent(value)}`))
      expect(bundle.entry?.map((e) => e.resource!.id), value).toEqual([obs])
    }
  })
})
