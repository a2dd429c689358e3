import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import { createPgRepository, type Repository, type RequestScope } from '../../../src/resources/index.js'
import { expectWalksBack, openSearchFixture, search, seed, SERVER_URL, walkPages, type SearchFixture } from './search-fixture.js'

/**
 * A search whose one filter is a chain, in id order, sorts the chain's ids before fetching
 * resources (src/resources/search/ids-first.ts) when it has at most `idsFirstLimit` of them, and
 * otherwise runs the EXISTS plan. Both must return the same pages; the fallback repository here
 * has a limit of 0, so any match sends it down the other plan.
 */
describe('search: chain pages sorted by id before fetching', () => {
  let f: SearchFixture
  let fallback: Repository
  beforeAll(async () => {
    f = await openSearchFixture()
    fallback = createPgRepository({ db: f.db.db, serverUrl: SERVER_URL, idsFirstLimit: 0 })
  })
  afterAll(() => f.close())

  const obs = (subject: string, text: string): Resource => ({ resourceType: 'Observation', status: 'final', code: { text }, subject: { reference: subject } })

  /** Two Pérez patients with 7 and 4 Observations, a Peterson with 3, one deleted Observation, one updated. */
  async function world(scope: RequestScope) {
    const [perez1, perez2, peterson] = await seed(f.repo, scope, [
      { resourceType: 'Patient', name: [{ family: 'Pérez', given: ['Ana'] }] },
      { resourceType: 'Patient', name: [{ family: 'Perez', given: ['Luis'] }] },
      { resourceType: 'Patient', name: [{ family: 'Peterson' }] },
    ] as Resource[])
    const mine = await seed(f.repo, scope, [
      ...Array.from({ length: 7 }, (_, i) => obs(`Patient/${perez1}`, `a${i}`)),
      ...Array.from({ length: 4 }, (_, i) => obs(`Patient/${perez2}`, `b${i}`)),
    ])
    const others = await seed(f.repo, scope, Array.from({ length: 3 }, (_, i) => obs(`Patient/${peterson}`, `c${i}`)))
    const deleted = mine.pop()!
    await f.repo.delete(scope, 'Observation', deleted)
    // An update keeps one set of index rows: the chain must list it once.
    await f.repo.update(scope, { ...obs(`Patient/${perez1}`, 'a0 again'), id: mine[0]! })
    return { perez: [...mine].sort(), others: [...others].sort(), deleted, perez1: perez1! }
  }

  const statementsOf = async (run: () => Promise<unknown>) => {
    f.statements.length = 0
    await run()
    return f.statements.splice(0)
  }

  it('pages a chain in id order, forward and back, with the same pages as the EXISTS plan', async () => {
    const scope = await f.newTenant()
    const { perez, deleted } = await world(scope)
    for (const query of ['subject:Patient.name=perez&_count=3', 'subject.name=PÉREZ&_count=4&_sort=-_id', 'patient.name=perez&_count=2&_sort=_id']) {
      const pages = await walkPages(f.repo, scope, 'Observation', query)
      const expected = query.includes('-_id') ? [...perez].reverse() : perez
      expect(pages.flat(), query).toEqual(expected)
      expect(pages.flat(), query).not.toContain(deleted)
      expect(await walkPages(fallback, scope, 'Observation', query), query).toEqual(pages)
      await expectWalksBack(f.repo, scope, 'Observation', query)
    }
  })

  it('sorts the ids first only under the limit; the fallback plan probes per resource', async () => {
    const scope = await f.newTenant()
    await world(scope)
    const sorted = await statementsOf(() => search(f.repo, scope, 'Observation', 'subject.name=perez'))
    expect(sorted.some((s) => s.includes('SELECT DISTINCT d.id'))).toBe(true)
    const probed = await statementsOf(() => search(fallback, scope, 'Observation', 'subject.name=perez'))
    expect(probed.some((s) => s.includes('SELECT DISTINCT d.id'))).toBe(false)
    expect(probed.some((s) => /EXISTS \(SELECT 1 FROM search_reference/.test(s))).toBe(true)
    // Another filter beside the chain, or another order: the page is not the chain's ids alone.
    for (const query of ['subject.name=perez&status=final', 'subject.name=perez&_sort=-_lastUpdated']) {
      const statements = await statementsOf(() => search(f.repo, scope, 'Observation', query))
      expect(statements.some((s) => s.includes('SELECT DISTINCT d.id')), query).toBe(false)
    }
  })

  it('counts a chain (_total=accurate, _summary=count) from its reference rows: live resources, each once', async () => {
    const scope = await f.newTenant()
    const { perez, others } = await world(scope)
    for (const [query, expected] of [['subject.name=perez&_count=2', perez.length], ['patient.name=peterson&_count=1', others.length], ['subject.name=perez,peterson&_summary=count', perez.length + others.length], ['subject.name=perez&_count=2&_sort=-_lastUpdated', perez.length]] as const) {
      const statements = await statementsOf(async () => expect((await search(f.repo, scope, 'Observation', query)).total, query).toBe(expected))
      expect(statements.some((s) => s.includes('count(DISTINCT d.id)')), query).toBe(true)
    }
    // With another filter the count is the EXISTS count, and agrees.
    expect((await search(f.repo, scope, 'Observation', 'subject.name=perez&status=final&_count=2')).total).toBe(perez.length)
  })

  it('keeps tenants apart in both directions', async () => {
    const [a, b] = [await f.newTenant(), await f.newTenant()]
    const inA = await world(a)
    const inB = await world(b)
    for (const [scope, own, other] of [[a, inA, inB], [b, inB, inA]] as const) {
      const ids = (await walkPages(f.repo, scope, 'Observation', 'subject.name=perez&_count=5')).flat()
      expect(ids).toEqual(own.perez)
      expect(ids.some((id) => other.perez.includes(id))).toBe(false)
      // A chain to a patient of the other tenant by id finds nothing here.
      expect((await search(f.repo, scope, 'Observation', `subject._id=${other.perez1}`)).entries).toEqual([])
    }
  })

  it('pages a _has the same way: each patient once, deleted and missing targets left out, tenants apart', async () => {
    const [a, b] = [await f.newTenant(), await f.newTenant()]
    const patientsWithCode = async (scope: RequestScope) => {
      const patients = await seed(f.repo, scope, Array.from({ length: 7 }, (_, i) => ({ resourceType: 'Patient', name: [{ family: `P${i}` }] }) as Resource))
      const coded = (subject: string, code: string): Resource => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: subject } })
      // Patients 0-4 have the code (0 twice), 5 has another one, 6 was deleted after its Observation.
      await seed(f.repo, scope, [...patients.slice(0, 5).map((p) => coded(`Patient/${p}`, '2093-3')), coded(`Patient/${patients[0]}`, '2093-3'), coded(`Patient/${patients[5]}`, '8302-2'), coded(`Patient/${patients[6]}`, '2093-3'), coded('Patient/gone', '2093-3')])
      await f.repo.delete(scope, 'Patient', patients[6]!)
      return patients.slice(0, 5).sort()
    }
    const inA = await patientsWithCode(a)
    const inB = await patientsWithCode(b)
    for (const [scope, own, other] of [[a, inA, inB], [b, inB, inA]] as const) {
      for (const query of ['_has:Observation:subject:code=2093-3&_count=2', '_has:Observation:patient:code=http://loinc.org|2093-3&_count=3&_sort=-_id']) {
        const statements = await statementsOf(async () => {
          const pages = await walkPages(f.repo, scope, 'Patient', query)
          expect(pages.flat(), query).toEqual(query.includes('-_id') ? [...own].reverse() : own)
          expect(pages.flat().some((id) => other.includes(id)), query).toBe(false)
          expect(await walkPages(fallback, scope, 'Patient', query), query).toEqual(pages)
        })
        expect(statements.some((s) => s.includes('SELECT DISTINCT d.id')), query).toBe(true)
        await expectWalksBack(f.repo, scope, 'Patient', query)
      }
    }
  })

  it('walks the targets of a _has in id order when it has many matches, and goes on from the sorted targets past the walk', async () => {
    const walker = createPgRepository({ db: f.db.db, serverUrl: SERVER_URL, hasWalkFrom: 0 })
    const world = async (scope: RequestScope) => {
      const patients = (await seed(f.repo, scope, Array.from({ length: 12 }, (_, i) => ({ resourceType: 'Patient', name: [{ family: `W${i}` }] }) as Resource))).sort()
      const coded = (subject: string, code: string): Resource => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: subject } })
      // In id order: 0-2, 5, 6, 8 and 11 have the code (five times each: 41 matches, so a walk reads
      // 2 patients), 3 had it and was deleted, 4 has another code, the rest none; one reference has no target.
      const matched = [0, 1, 2, 5, 6, 8, 11]
      await seed(f.repo, scope, [
        ...[...matched, 3].flatMap((i) => Array.from({ length: 5 }, () => coded(`Patient/${patients[i]}`, '72166-2'))),
        coded(`Patient/${patients[4]}`, '8302-2'),
        coded('Patient/gone', '72166-2'),
      ])
      await f.repo.delete(scope, 'Patient', patients[3]!)
      return matched.map((i) => patients[i]!)
    }
    const [a, b] = [await f.newTenant(), await f.newTenant()]
    const inA = await world(a)
    const inB = await world(b)
    for (const [scope, own, other] of [[a, inA, inB], [b, inB, inA]] as const) {
      for (const query of ['_has:Observation:subject:code=72166-2&_count=1', '_has:Observation:subject:code=72166-2&_count=3', '_has:Observation:patient:code=http://loinc.org|72166-2&_count=2&_sort=-_id']) {
        const isWalk = (statement: string) => statement.includes('CROSS JOIN LATERAL (SELECT 1 FROM search_reference')
        let pages: string[][] = []
        const walked = await statementsOf(async () => (pages = await walkPages(walker, scope, 'Patient', query)))
        expect(pages.flat(), query).toEqual(query.includes('-_id') ? [...own].reverse() : own)
        expect(pages.flat().some((id) => other.includes(id)), query).toBe(false)
        expect(walked.filter(isWalk).length, query).toBe(pages.length)
        // The first page of 1 (2 rows) fills from the 2 patients walked (0 and 1 match); the others
        // run short and go on from the sorted targets.
        const first = await statementsOf(() => search(walker, scope, 'Patient', query))
        expect(first.filter(isWalk), query).toHaveLength(1)
        expect(first.some((s) => s.includes('SELECT DISTINCT d.id')), query).toBe(!query.includes('_count=1'))
        for (const repo of [fallback, f.repo]) {
          const statements = await statementsOf(async () => expect(await walkPages(repo, scope, 'Patient', query), query).toEqual(pages))
          expect(statements.some(isWalk), query).toBe(false)
        }
        await expectWalksBack(walker, scope, 'Patient', query)
      }
    }
  })

  it('finds nothing, and says so without a next link, when no target matches', async () => {
    const scope = await f.newTenant()
    await world(scope)
    const page = await search(f.repo, scope, 'Observation', 'subject.name=nobody')
    expect(page.entries).toEqual([])
    expect(page.next).toBeUndefined()
  })
})
