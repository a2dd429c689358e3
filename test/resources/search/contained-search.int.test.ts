import type { Bundle, Condition, Observation, Patient, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../../setup/app.js'
import { expectOutcome } from '../../setup/outcome.js'
import { containedPatient, create, fullUrls, linkOf, observationWith, searchset, urlOf } from './contained-fixture.js'

/**
 * `_contained` / `_containedType` (https://hl7.org/fhir/R4/search.html#contained) through the real
 * app: `false` (default) searches resources, `true` the contained resources of the type (in
 * containers of any type), `both` the two; the entry is the container or (`contained`) the
 * contained resource itself, whose fullUrl is the container's URL plus `#id`.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

/**
 * A real Patient named Taylor, an Observation containing a Patient named Taylor and a Practitioner,
 * another containing a Patient named Other, a Patient containing a Patient named Taylor, and a
 * Condition containing two Patients (Taylor, female; Jones, male).
 */
async function world(tenant: TestTenant) {
  const realTaylor = await create(tenant, { resourceType: 'Patient', name: [{ family: 'Taylor' }] } as Patient)
  await create(tenant, { resourceType: 'Patient', name: [{ family: 'Smith' }] } as Patient)
  const practitioner = { resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'Healer' }] } as Resource
  const obsTaylor = await create(tenant, observationWith(containedPatient('p1', 'Taylor'), { practitioner }) as Observation)
  const obsOther = await create(tenant, observationWith(containedPatient('p1', 'Other')) as Observation)
  const patientContainer = await create(tenant, {
    resourceType: 'Patient',
    name: [{ family: 'Smith' }],
    contained: [containedPatient('p1', 'Taylor')],
    link: [{ other: { reference: '#p1' }, type: 'seealso' }],
  } as Patient)
  const condition = await create(tenant, {
    resourceType: 'Condition',
    code: { text: 'x' },
    contained: [containedPatient('x', 'Taylor', 'female'), containedPatient('y', 'Jones', 'male')],
    subject: { reference: '#x' },
    asserter: { reference: '#y' },
  } as Condition)
  return { realTaylor, obsTaylor, obsOther, patientContainer, condition }
}

describe('search: _contained', () => {
  it('matches only non-contained resources by default and with _contained=false', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    for (const query of ['family=Taylor', 'family=Taylor&_contained=false', 'family=Taylor&_contained=false&_containedType=contained']) {
      expect(fullUrls(await searchset(tenant, `/Patient?${query}`)), query).toEqual([urlOf(tenant, w.realTaylor)])
    }
  })

  it('with _contained=true returns the containers (of any type) of matching contained resources', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    const expected = [urlOf(tenant, w.obsTaylor), urlOf(tenant, w.patientContainer), urlOf(tenant, w.condition)].sort()
    const bundle = await searchset(tenant, '/Patient?family=Taylor&_contained=true')
    expect(fullUrls(bundle)).toEqual(expected)
    expect(bundle.total).toBe(3)
    expect(bundle.entry?.map((e) => e.search?.mode)).toEqual(['match', 'match', 'match'])
    expect(fullUrls(await searchset(tenant, '/Patient?family=Taylor&_contained=true&_containedType=container'))).toEqual(expected)
  })

  it('with _containedType=contained returns each contained match itself, its fullUrl the container URL plus #id', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    const bundle = await searchset(tenant, '/Patient?family=Taylor&_contained=true&_containedType=contained')
    expect(fullUrls(bundle)).toEqual([urlOf(tenant, w.obsTaylor, 'p1'), urlOf(tenant, w.patientContainer, 'p1'), urlOf(tenant, w.condition, 'x')].sort())
    const byUrl = new Map((bundle.entry ?? []).map((e) => [e.fullUrl, e.resource]))
    expect(byUrl.get(urlOf(tenant, w.condition, 'x'))).toEqual(containedPatient('x', 'Taylor', 'female'))
    expect(byUrl.get(urlOf(tenant, w.obsTaylor, 'p1'))).toEqual(containedPatient('p1', 'Taylor'))
  })

  it('with _contained=both returns the resources and the contained matches, a container matching both ways once', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    // The Patient container is named Smith: it is found through its contained Patient only; Smith finds it as itself.
    const containers = await searchset(tenant, '/Patient?family=Taylor&_contained=both')
    expect(fullUrls(containers)).toEqual([urlOf(tenant, w.realTaylor), urlOf(tenant, w.obsTaylor), urlOf(tenant, w.patientContainer), urlOf(tenant, w.condition)].sort())
    expect(containers.total).toBe(4)
    const contained = await searchset(tenant, '/Patient?family=Taylor&_contained=both&_containedType=contained')
    expect(fullUrls(contained)).toEqual(
      [urlOf(tenant, w.realTaylor), urlOf(tenant, w.obsTaylor, 'p1'), urlOf(tenant, w.patientContainer, 'p1'), urlOf(tenant, w.condition, 'x')].sort(),
    )
    // A Patient that matches itself and also contains a match is one container entry.
    await create(tenant, { resourceType: 'Patient', name: [{ family: 'Taylor' }], contained: [containedPatient('t', 'Taylor')], link: [{ other: { reference: '#t' }, type: 'seealso' }] } as Patient)
    expect((await searchset(tenant, '/Patient?family=Taylor&_contained=both')).total).toBe(5)
    expect((await searchset(tenant, '/Patient?family=Taylor&_contained=both&_containedType=contained')).total).toBe(6)
  })

  it('ANDs the criteria on one contained resource, never across two contained in the same container', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    expect(fullUrls(await searchset(tenant, '/Patient?family=Taylor&gender=male&_contained=true'))).toEqual([])
    expect(fullUrls(await searchset(tenant, '/Patient?family=Jones&gender=male&_contained=true'))).toEqual([urlOf(tenant, w.condition)])
    expect(fullUrls(await searchset(tenant, '/Patient?family=Taylor&gender=female&_contained=true&_containedType=contained'))).toEqual([urlOf(tenant, w.condition, 'x')])
    expect(fullUrls(await searchset(tenant, '/Patient?_id=y&_contained=true&_containedType=contained'))).toEqual([urlOf(tenant, w.condition, 'y')])
    expect(fullUrls(await searchset(tenant, '/Patient?gender:not=female&_contained=true&_containedType=contained'))).toEqual(
      [urlOf(tenant, w.obsTaylor, 'p1'), urlOf(tenant, w.obsOther, 'p1'), urlOf(tenant, w.patientContainer, 'p1'), urlOf(tenant, w.condition, 'y')].sort(),
    )
  })

  it('finds several contained types in one container, each by its own type, and every contained resource without criteria', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    expect(fullUrls(await searchset(tenant, '/Practitioner?_contained=true'))).toEqual([urlOf(tenant, w.obsTaylor)])
    expect(fullUrls(await searchset(tenant, '/Practitioner?family=Healer&_contained=true&_containedType=contained'))).toEqual([urlOf(tenant, w.obsTaylor, 'pr1')])
    expect(fullUrls(await searchset(tenant, '/Practitioner?family=Taylor&_contained=true'))).toEqual([])
    const all = await searchset(tenant, '/Patient?_contained=true&_containedType=contained')
    expect(all.total).toBe(5)
    expect((await searchset(tenant, '/Patient?_contained=true')).total).toBe(4)
    // Observations are containers here, never contained ones.
    expect((await searchset(tenant, '/Observation?_contained=true')).total).toBe(0)
  })

  it('stops matching a contained resource an update removes, and a deleted container', async () => {
    const tenant = await t.newTenant()
    const w = await world(tenant)
    const { contained: _, ...rest } = w.obsTaylor
    const updated = { ...rest, subject: { reference: `Patient/${w.realTaylor.id}` }, performer: undefined }
    const put = await tenant.request('PUT', `/Observation/${w.obsTaylor.id}`, { body: updated })
    expect(put.statusCode, put.body).toBe(200)
    expect((await tenant.request('DELETE', `/Patient/${w.patientContainer.id}`)).statusCode).toBe(204)
    expect(fullUrls(await searchset(tenant, '/Patient?family=Taylor&_contained=true'))).toEqual([urlOf(tenant, w.condition)])
    expect(fullUrls(await searchset(tenant, '/Practitioner?_contained=true'))).toEqual([])
    const patch = await tenant.request('PATCH', `/Condition/${w.condition.id}`, {
      body: [{ op: 'remove', path: '/contained/1' }, { op: 'remove', path: '/asserter' }],
      headers: { 'content-type': 'application/json-patch+json' },
    })
    expect(patch.statusCode, patch.body).toBe(200)
    expect(fullUrls(await searchset(tenant, '/Patient?family=Jones&_contained=true'))).toEqual([])
    expect(fullUrls(await searchset(tenant, '/Patient?family=Taylor&_contained=true&_containedType=contained'))).toEqual([urlOf(tenant, w.condition, 'x')])
  })

  it('keeps each tenant’s contained matches to itself, both ways', async () => {
    const a = await t.newTenant()
    const b = await t.newTenant()
    const inA = await create(a, observationWith(containedPatient('p1', 'Isolda')) as Observation)
    const inB = await create(b, observationWith(containedPatient('p1', 'Isolda')) as Observation)
    for (const mode of ['true', 'both']) {
      expect(fullUrls(await searchset(a, `/Patient?family=Isolda&_contained=${mode}`))).toEqual([urlOf(a, inA)])
      expect(fullUrls(await searchset(b, `/Patient?family=Isolda&_contained=${mode}&_containedType=contained`))).toEqual([urlOf(b, inB, 'p1')])
    }
    expect(fullUrls(await searchset(a, '/Observation?subject.family=Isolda'))).toEqual([urlOf(a, inA)])
    expect(fullUrls(await searchset(b, '/Observation?subject.family=Isolda'))).toEqual([urlOf(b, inB)])
  })
})

describe('search: _contained paging and totals', () => {
  it('pages contained matches with _count, keeping _contained and _containedType in self/next/previous links, with an exact _total', async () => {
    const tenant = await t.newTenant()
    const made: (Observation & { id: string })[] = []
    for (let i = 0; i < 5; i++) made.push(await create(tenant, observationWith(containedPatient(`p${i}`, 'Pager')) as Observation))
    await create(tenant, { resourceType: 'Patient', name: [{ family: 'Pager' }] } as Patient)
    const query = '/Patient?family=Pager&_contained=true&_containedType=contained&_count=2&_total=accurate'
    const pages: Bundle[] = [await searchset(tenant, query)]
    for (let next = linkOf(tenant, pages[0]!, 'next'); next; next = linkOf(tenant, pages[pages.length - 1]!, 'next')) {
      expect(next).toMatch(/_contained=true/)
      expect(next).toMatch(/_containedType=contained/)
      pages.push(await searchset(tenant, next))
    }
    expect(pages.map((p) => p.entry?.length)).toEqual([2, 2, 1])
    expect(pages.map((p) => p.total)).toEqual([5, 5, 5])
    const self = linkOf(tenant, pages[0]!, 'self')!
    expect(self).toMatch(/_contained=true/)
    expect(self).toMatch(/_containedType=contained/)
    expect(pages.flatMap(fullUrls).sort()).toEqual(made.map((o, i) => urlOf(tenant, o, `p${i}`)).sort())
    // Walking back from the last page gives the same pages.
    const previous = linkOf(tenant, pages[2]!, 'previous')!
    expect(previous).toMatch(/_contained=true/)
    expect(fullUrls(await searchset(tenant, previous))).toEqual(fullUrls(pages[1]!))
    // _summary=count and _count=0: the total only.
    for (const q of ['_summary=count', '_count=0']) {
      const counted = await searchset(tenant, `/Patient?family=Pager&_contained=both&${q}`)
      expect([counted.total, counted.entry], q).toEqual([6, undefined])
    }
  })

  it('pages both-mode containers across real and contained matches without repeats', async () => {
    const tenant = await t.newTenant()
    const expected: string[] = []
    for (let i = 0; i < 3; i++) expected.push(urlOf(tenant, await create(tenant, observationWith(containedPatient('p', 'Walker')) as Observation)))
    for (let i = 0; i < 3; i++) expected.push(urlOf(tenant, await create(tenant, { resourceType: 'Patient', name: [{ family: 'Walker' }] } as Patient)))
    const seen: string[] = []
    let page = await searchset(tenant, '/Patient?family=Walker&_contained=both&_count=4')
    for (;;) {
      expect(page.total).toBe(6)
      seen.push(...fullUrls(page))
      const next = linkOf(tenant, page, 'next')
      if (!next) break
      page = await searchset(tenant, next)
    }
    expect(seen.sort()).toEqual(expected.sort())
  })
})

describe('search: _contained errors', () => {
  it('answers 400 naming the parameter for an unknown value of _contained or _containedType', async () => {
    const tenant = await t.newTenant()
    for (const [query, name] of [['_contained=maybe', '_contained'], ['_contained=TRUE', '_contained'], ['_containedType=inside', '_containedType'], ['_contained=true&_containedType=', '_containedType']] as const) {
      const outcome = expectOutcome(await tenant.request('GET', `/Patient?${query}`), { status: 400, code: 'invalid' })
      expect(outcome.issue?.[0]?.expression, query).toEqual([name])
    }
  })

  it('answers 400 naming the parameter for what a contained search cannot evaluate', async () => {
    const tenant = await t.newTenant()
    const patient = await create(tenant, { resourceType: 'Patient', name: [{ family: 'Z' }] } as Patient)
    const cases = [
      ['/Patient?_contained=true&_sort=family', '_sort'],
      ['/Patient?_contained=both&_lastUpdated=gt2020', '_lastUpdated'],
      ['/Patient?_contained=true&_has:Observation:subject:code=8867-4', '_has:Observation:subject:code'],
      ['/Patient?_contained=true&_content=taylor', '_content'],
      ['/Observation?_contained=true&code-value-quantity=http://loinc.org|8867-4$gt1', 'code-value-quantity'],
      [`/Patient/${patient.id}/Observation?_contained=true`, '_contained'],
      ['?_contained=true', '_contained'],
    ] as const
    for (const [path, name] of cases) {
      const outcome = expectOutcome(await tenant.request('GET', path), { status: 400, code: 'invalid' })
      expect(outcome.issue?.[0]?.expression, path).toEqual([name])
    }
  })
})
