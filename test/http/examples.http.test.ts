import { readdirSync, readFileSync } from 'node:fs'
import { sharedData } from '../fixtures/shared-data.js'
import { join } from 'node:path'
import type { OperationOutcome, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KNOWN_INVALID_R4_EXAMPLES } from '../../src/resources/validation/index.js'
import { buildTestApp, type TestApp } from '../setup/app.js'

/**
 * Round trip of every FHIR R4 specification example (create, read back, compare), and rejection
 * of the few that are invalid as published (listed in the examples README).
 */
const EXAMPLES_DIR = sharedData('fhir-examples/r4-core')
const README = sharedData('fhir-examples/README.md')
const CONCURRENCY = 8

/** What each known-invalid example must be rejected for (README: "Known Medplum validation failures"). */
const EXPECTED_PROBLEM: Record<string, RegExp> = {
  'Binary-example': /base64Binary/,
  'Media-example': /base64Binary/,
  'DiagnosticReport-gingival-mass': /base64Binary/,
  'Questionnaire-qs1': /linkId/,
  'RiskAssessment-breastcancer-risk': /ras-2/,
  'RiskAssessment-prognosis': /ras-2/,
}

const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort()
const nameOf = (file: string) => file.slice(0, -'.json'.length)
const load = (file: string) => JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as Resource

/** The resource without what the server owns: id, meta.versionId and meta.lastUpdated (and meta, if that empties it). */
function withoutServerFields(resource: Resource): Record<string, unknown> {
  const { id: _id, meta, ...rest } = resource
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {}
  return Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await task(items[next++]!)
  }
  await Promise.all(Array.from({ length: limit }, worker))
}

let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

describe('R4 specification examples', () => {
  it('has the 677 published examples, and the known-invalid list matches the README', () => {
    expect(files).toHaveLength(677)
    const row = readFileSync(README, 'utf8')
      .split('\n')
      .find((line) => line.startsWith('| Known Medplum validation failures (6)'))
    const listed = [...(row ?? '').matchAll(/`([A-Z][A-Za-z]+-[A-Za-z0-9.-]+)`/g)].map((m) => m[1]).sort()
    expect(listed).toEqual([...KNOWN_INVALID_R4_EXAMPLES].sort())
    expect(Object.keys(EXPECTED_PROBLEM).sort()).toEqual([...KNOWN_INVALID_R4_EXAMPLES].sort())
    for (const name of KNOWN_INVALID_R4_EXAMPLES) expect(files).toContain(`${name}.json`)
  })

  it('creates every valid example and reads it back unchanged apart from id, versionId and lastUpdated', async () => {
    const tenant = await t.newTenant()
    const valid = files.filter((f) => !KNOWN_INVALID_R4_EXAMPLES.includes(nameOf(f)))
    const failures: string[] = []
    await eachLimited(valid, CONCURRENCY, async (file) => {
      const original = load(file)
      const created = await tenant.request('POST', `/${original.resourceType}`, { body: original })
      if (created.statusCode !== 201) {
        failures.push(`${file}: create answered ${created.statusCode} ${created.body.slice(0, 300)}`)
        return
      }
      const location = String(created.headers.location)
      const { id } = created.json<Resource>()
      if (!location.endsWith(`/${original.resourceType}/${id}/_history/1`)) failures.push(`${file}: Location ${location}`)
      const read = await tenant.request('GET', `/${original.resourceType}/${id}`)
      if (read.statusCode !== 200 || read.headers.etag !== 'W/"1"') {
        failures.push(`${file}: read answered ${read.statusCode} ETag ${String(read.headers.etag)}`)
        return
      }
      const stored = read.json<Resource>()
      if (stored.id !== id || stored.meta?.versionId !== '1') failures.push(`${file}: id/versionId ${stored.id}/${stored.meta?.versionId}`)
      try {
        expect(withoutServerFields(stored)).toEqual(withoutServerFields(original))
      } catch (e) {
        failures.push(`${file}: read-back differs: ${(e as Error).message.slice(0, 500)}`)
      }
    })
    expect(failures).toEqual([])
    expect(valid).toHaveLength(677 - KNOWN_INVALID_R4_EXAMPLES.length)
  }, 180_000)

  it('keeps the precision of every decimal as sent (Observation-decimal: 1.0, 1.00, 1E-22, 1.000000000000000000E-245)', async () => {
    const tenant = await t.newTenant()
    const text = readFileSync(join(EXAMPLES_DIR, 'Observation-decimal.json'), 'utf8')
    const literals = (json: string) => [...json.matchAll(/"value"\s*:\s*(-?\d[\d.eE+-]*)/g)].map((m) => m[1])
    const created = await tenant.request('POST', '/Observation', { body: text })
    expect(created.statusCode, created.body).toBe(201)
    const read = await tenant.request('GET', `/Observation/${created.json<Resource>().id}`)
    expect(literals(read.body)).toEqual(literals(text))
  })

  it('rejects each known-invalid example with 400 and an OperationOutcome naming the problem, storing nothing', async () => {
    const tenant = await t.newTenant()
    for (const name of KNOWN_INVALID_R4_EXAMPLES) {
      const original = load(`${name}.json`)
      const res = await tenant.request('POST', `/${original.resourceType}`, { body: original })
      expect(res.statusCode, `${name}: ${res.body.slice(0, 300)}`).toBe(400)
      const outcome = res.json<OperationOutcome>()
      expect(outcome.resourceType).toBe('OperationOutcome')
      expect(outcome.issue?.[0]?.severity).toBe('error')
      const diagnostics = (outcome.issue ?? []).map((i) => i.diagnostics).join(' | ')
      expect(diagnostics, name).toMatch(EXPECTED_PROBLEM[name]!)
    }
    // Only the tenant Organization (and the AuditEvent of the test client's token, issue 5).
    const stored = (await tenant.request('GET', '/_history')).json().entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)
    expect(stored.filter((type: string) => type !== 'AuditEvent')).toEqual(['Organization'])
  })
})
