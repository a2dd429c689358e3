import type { Patient } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseBundle } from '../../src/bundles/parse.js'
import { lockConditionalEntries } from '../../src/bundles/targets.js'
import type { BundleContext, ParsedEntry } from '../../src/bundles/types.js'
import { conditionalCreate, parseCriteria } from '../../src/resources/index.js'
import { makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'

/**
 * `lockConditionalEntries` (src/bundles/targets.ts): a transaction that locked its conditional
 * entries up front makes a concurrent conditional create of the same identifier wait for its
 * commit, and then see what it wrote. Needs two connections, so PostgreSQL only.
 */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const MRN = 'http://hospital.example.org/mrn'

describe('lockConditionalEntries', () => {
  // Embedded PGlite is one session behind one pooled connection: a second transaction cannot even
  // start while the first is open, so there is no lock to observe there.
  it.skipIf(inject('isEmbeddedDatabase'))('holds the identifier lock of every conditional entry until the transaction commits', async () => {
    const tenant = await t.newTenant()
    const scope = { tenantId: tenant.tenantId }
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: makePatient({ identifier: [{ system: MRN, value: 'lk-1' }] }), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|lk-1` } }],
    }
    const entries = parseBundle(bundle, { baseUrl: 'http://fhir.test', maxEntries: 10 }).entries as ParsedEntry[]
    const bundleCtx = { scope } as BundleContext
    let releaseFirst!: () => void
    const held = new Promise<void>((resolve) => (releaseFirst = resolve))
    let lockTaken!: () => void
    const taken = new Promise<void>((resolve) => (lockTaken = resolve))
    const order: string[] = []
    const first = t.services.repo.transaction(scope, async (repo) => {
      await lockConditionalEntries(repo, bundleCtx, entries)
      lockTaken()
      await held
      await repo.create(scope, makePatient({ identifier: [{ system: MRN, value: 'lk-1' }] }))
      order.push('first committed')
    })
    await taken
    const second = conditionalCreate(t.services.repo, scope, makePatient({ identifier: [{ system: MRN, value: 'lk-1' }] }), parseCriteria('Patient', `identifier=${MRN}|lk-1`)).then((r) => {
      order.push(`second ${r.outcome}`)
      return r
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(order).toEqual([])
    releaseFirst()
    await first
    const result = await second
    expect(order).toEqual(['first committed', 'second matched'])
    expect((JSON.parse(result.stored.json) as Patient).identifier?.[0]?.value).toBe('lk-1')
  })
})
