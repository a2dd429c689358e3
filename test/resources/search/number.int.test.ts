import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RiskAssessment } from '@medplum/fhirtypes'
import { isFhirError } from '../../../src/errors.js'
import { matchIds, openSearchFixture, pick, search, seed, type SearchFixture } from './search-fixture.js'

/** number parameters — https://hl7.org/fhir/R4/search.html#number (RiskAssessment.prediction.probability) */
describe('search: number parameters', () => {
  let f: SearchFixture
  beforeAll(async () => {
    f = await openSearchFixture()
  })
  afterAll(() => f.close())

  const percent = (value: number) => ({ value, system: 'http://unitsofmeasure.org', code: '%' })
  const risk = (probability?: number | { low?: number; high?: number }): RiskAssessment => ({
    resourceType: 'RiskAssessment',
    status: 'final',
    subject: { reference: 'Patient/p1' },
    ...(probability === undefined
      ? {}
      : {
          prediction: [
            typeof probability === 'number'
              ? { probabilityDecimal: probability }
              : {
                  probabilityRange: {
                    ...(probability.low !== undefined ? { low: percent(probability.low) } : {}),
                    ...(probability.high !== undefined ? { high: percent(probability.high) } : {}),
                  },
                },
          ],
        }),
  })
  const values = (scope: { tenantId: string }) => seed(f.repo, scope, [risk(10), risk(10.4), risk(10.5), risk(9.5), risk(9.9996), risk(-5), risk()])

  it('uses the implicit precision of the search value: 10 is [9.5, 10.5), 10.00 is [9.995, 10.005)', async () => {
    const scope = await f.newTenant()
    const ids = await values(scope)
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=10')).toEqual(pick(ids, 0, 1, 3, 4))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=10.00')).toEqual(pick(ids, 0, 4))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=10.0000')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=1e1')).toEqual(pick(ids, 0, 1, 2, 3, 4))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=-5')).toEqual(pick(ids, 5))
  })

  it('compares exactly with gt, lt, ge, le, sa, eb and excludes the precision range with ne', async () => {
    const scope = await f.newTenant()
    const ids = await values(scope)
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=gt10')).toEqual(pick(ids, 1, 2))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=ge10')).toEqual(pick(ids, 0, 1, 2))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=lt10')).toEqual(pick(ids, 3, 4, 5))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=le9.5')).toEqual(pick(ids, 3, 5))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=sa10.4')).toEqual(pick(ids, 2))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=eb0')).toEqual(pick(ids, 5))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=ne10')).toEqual(pick(ids, 2, 5))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=ap10')).toEqual(pick(ids, 0, 1, 2, 3, 4))
  })

  it('matches a Range by overlap with gt/lt and by containment with eq', async () => {
    const scope = await f.newTenant()
    const ids = await seed(f.repo, scope, [risk({ low: 10, high: 20 }), risk({ low: 50 })])
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=gt15')).toEqual(pick(ids, 0, 1))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=lt11')).toEqual(pick(ids, 0))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=gt1000')).toEqual(pick(ids, 1))
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability=15')).toEqual([])
  })

  it('finds resources without a value through :missing', async () => {
    const scope = await f.newTenant()
    const ids = await values(scope)
    expect(await matchIds(f.repo, scope, 'RiskAssessment', 'probability:missing=true')).toEqual(pick(ids, 6))
  })

  it('rejects a value that is not a number with invalid naming the parameter', async () => {
    const scope = await f.newTenant()
    for (const bad of ['probability=abc', 'probability=gt', 'probability=1,2x', 'probability=xx5', "probability=1' OR '1'='1"]) {
      const error = await search(f.repo, scope, 'RiskAssessment', bad).catch((e: unknown) => e)
      expect(isFhirError(error) && error.kind).toBe('invalid')
      expect(isFhirError(error) && error.issues[0]?.expression).toEqual(['probability'])
    }
  })
})
