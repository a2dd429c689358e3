/**
 * Validation microbenchmark: mean µs per `validateResource` after warm-up, for the bench Observation
 * (stamped with id and meta, as on create) and typical Synthea resources, with the compiled validator
 * (src/resources/validation) and the one it replaced (@medplum/core's validateResource plus the
 * binding walk, kept as test/resources/validation-oracle.ts). Prints old, new and old / new.
 *
 *   npx tsx bench/validation.ts            (BENCH_VALIDATION_MS=1500 per measurement by default)
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { gunzipSync } from 'node:zlib'
import { loadFhirDefinitions, validateResource } from '../src/resources/validation/index.js'
import { validateWithOracle } from '../test/resources/validation-oracle.js'

type JsonObject = Record<string, unknown> & { resourceType: string }

const SYNTHEA_24 = (process.env.SHARED_DATA_DIR ?? '../shared/data') + '/synthea/r4-synthea-2.4-transaction-bundles/Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json.gz'
const SYNTHEA_3X = (process.env.SHARED_DATA_DIR ?? '../shared/data') + '/synthea/r4-synthea-3.x-conditional-refs/Alvin56_Jerde200_53917de0-aa0c-0700-105a-4f7f893c62f6.json.gz'
const MEASURE_MS = Number(process.env.BENCH_VALIDATION_MS ?? 1500)

function entriesOf(file: string): JsonObject[] {
  const bundle = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { entry: { resource: JsonObject }[] }
  return bundle.entry.map((e) => e.resource)
}

function firstOf(resources: JsonObject[], type: string): JsonObject {
  const found = resources.find((r) => r.resourceType === type)
  if (!found) throw new Error(`no ${type} in the Synthea bundle`)
  return found
}

/** Mean µs per call: warm-up for a third of the time, then as many calls as fit in MEASURE_MS. */
function measure(fn: () => unknown): number {
  const warmUntil = performance.now() + MEASURE_MS / 3
  while (performance.now() < warmUntil) fn()
  let calls = 0
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < MEASURE_MS) {
    for (let i = 0; i < 50; i++) fn()
    calls += 50
    elapsed = performance.now() - t0
  }
  return (elapsed * 1000) / calls
}

const hasErrors = (issues: { severity?: string }[]) => issues.some((i) => i.severity === 'error' || i.severity === 'fatal')

function main() {
  const t0 = performance.now()
  loadFhirDefinitions()
  console.log(`loadFhirDefinitions: ${(performance.now() - t0).toFixed(0)} ms`)

  const observation = JSON.parse(readFileSync(new URL('./observation.json', import.meta.url), 'utf8')) as JsonObject
  const synthea = entriesOf(SYNTHEA_24)
  const cases: [string, JsonObject][] = [
    ['bench Observation (1.7 KB, stamped)', { ...observation, id: '0b6f2b5e-4a8f-4b7e-9a57-0d6f7c1e2a3b', meta: { versionId: '1', lastUpdated: new Date().toISOString() } }],
    ['Synthea 2.4 Observation', firstOf(synthea, 'Observation')],
    ['Synthea 2.4 Patient', firstOf(synthea, 'Patient')],
    ['Synthea 3.x Patient', firstOf(entriesOf(SYNTHEA_3X), 'Patient')],
    ['Synthea 2.4 Encounter', firstOf(synthea, 'Encounter')],
    ['Synthea 2.4 Claim', firstOf(synthea, 'Claim')],
    ['Synthea 2.4 ExplanationOfBenefit', firstOf(synthea, 'ExplanationOfBenefit')],
  ]

  const rows: string[][] = [['resource', 'bytes', 'old µs', 'new µs', 'old/new']]
  for (const [name, resource] of cases) {
    const newInvalid = hasErrors(validateResource(resource))
    const oldInvalid = hasErrors(validateWithOracle(resource))
    if (newInvalid || oldInvalid) throw new Error(`${name}: expected valid (new invalid: ${newInvalid}, old invalid: ${oldInvalid})`)
    const oldUs = measure(() => validateWithOracle(resource))
    const newUs = measure(() => validateResource(resource))
    const bytes = String(Buffer.byteLength(JSON.stringify(resource)))
    rows.push([name, bytes, oldUs.toFixed(1), newUs.toFixed(1), `${(oldUs / newUs).toFixed(1)}x`])
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
}

main()
