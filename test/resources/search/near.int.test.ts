import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Location } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

/** Great-circle distance in km (haversine), the oracle for the expected matches. */
function km(a: [number, number], b: [number, number]): number {
  const rad = (d: number) => (d * Math.PI) / 180
  const h = Math.sin((rad(b[0]) - rad(a[0])) / 2) ** 2 + Math.cos(rad(a[0])) * Math.cos(rad(b[0])) * Math.sin((rad(b[1]) - rad(a[1])) / 2) ** 2
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** Location `near` — https://hl7.org/fhir/R4/location.html#positional */
describe('search: Location near', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const place = (name: string, at?: [number, number]): Location => ({
    resourceType: 'Location',
    name,
    ...(at ? { position: { latitude: at[0], longitude: at[1] } } : {}),
  })
  // Buenos Aires and around, Montevideo, Córdoba, and two points across the antimeridian (Fiji).
  const points: [string, [number, number] | undefined][] = [
    ['Obelisco', [-34.6037, -58.3816]],
    ['Palermo', [-34.5889, -58.4306]],
    ['La Plata', [-34.9214, -57.9545]],
    ['Montevideo', [-34.9011, -56.1645]],
    ['Córdoba', [-31.4201, -64.1888]],
    ['Suva', [-18.1248, 178.4501]],
    ['Taveuni east', [-16.9, -179.9]],
    ['No position', undefined],
  ]
  const withinOf = (ids: string[], from: [number, number], limit: number) =>
    ids.filter((_, i) => points[i]![1] && km(from, points[i]![1]!) <= limit).sort()

  it('matches the Locations within the distance by great-circle distance, for each unit', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, points.map(([name, at]) => place(name, at)))
    const obelisco: [number, number] = [-34.6037, -58.3816]
    for (const [query, limit] of [
      ['-34.6037|-58.3816|5|km', 5],
      ['-34.6037|-58.3816|60|km', 60],
      ['-34.6037|-58.3816|220', 220],
      ['-34.6037|-58.3816|5000|m', 5],
      ['-34.6037|-58.3816|150|[mi_i]', 150 * 1.609344],
      ['-34.6037|-58.3816|1000|km', 1000],
    ] as const) {
      const expected = withinOf(ids, obelisco, limit)
      expect(await matchIds(f.repo, scope, 'Location', `near=${encodeURIComponent(query)}`), query).toEqual(expected)
    }
    expect(withinOf(ids, obelisco, 60)).toEqual(pick(ids, 0, 1, 2))
    // Without a distance: the server's default (10 km).
    expect(await matchIds(f.repo, scope, 'Location', `near=${encodeURIComponent('-34.6037|-58.3816')}`)).toEqual(withinOf(ids, obelisco, 10))
  })

  it('finds points across the antimeridian', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, points.map(([name, at]) => place(name, at)))
    const expected = withinOf(ids, [-17.5, 179.8], 300)
    expect(expected).toEqual(pick(ids, 5, 6))
    expect(await matchIds(f.repo, scope, 'Location', `near=${encodeURIComponent('-17.5|179.8|300|km')}`)).toEqual(expected)
  })

  it('never matches other tenants, deleted Locations or superseded positions', async () => {
    const scope = await f.newTenant()
    const [kept, gone, moved] = await seed(f.repo, scope, [place('a', [-34.6, -58.38]), place('b', [-34.6, -58.38]), place('c', [-34.6, -58.38])])
    await f.repo.delete(scope, 'Location', gone!)
    await f.repo.update(scope, { ...place('c', [-31.42, -64.19]), id: moved! })
    await seed(f.repo, await f.newTenant(), [place('other', [-34.6, -58.38])])
    expect(await matchIds(f.repo, scope, 'Location', `near=${encodeURIComponent('-34.6|-58.38|1|km')}`)).toEqual([kept])
    expect(await matchIds(f.repo, scope, 'Location', `near=${encodeURIComponent('-31.42|-64.19|1|km')}`)).toEqual([moved])
  })

  it('rejects a malformed near with invalid naming the parameter', async () => {
    const scope = await f.newTenant()
    for (const bad of ['abc', '-34.6', '-34.6|x', '91|0|5|km', '0|181', '0|0|-1|km', '0|0|5|parsec', '0|0|5|km|extra', '0|0|far|km']) {
      const error = await search(f.repo, scope, 'Location', `near=${encodeURIComponent(bad)}`).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind, bad).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression, bad).toEqual(['near'])
    }
    const error = await search(f.repo, scope, 'Location', '_sort=near').catch((e: unknown) => e)
    expect(isFhirError(error) && error.kind).toBe('invalid')
  })
})
