/**
 * Imports every Synthea 2.4 transaction Bundle into a fresh tenant and checks the per-type counts
 * against the folder's manifest.json; prints resources/s. The test suite imports a subset (see
 * test/http/transaction-load.http.test.ts); this is the full run.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/import-synthea.ts [folder]
 *
 * Runs the Bundle engine in-process on the configured database (without DATABASE_URL: the
 * embedded PGlite under DATA_DIR), without HTTP or tokens. The tenant it creates
 * (`synthea-<time>`) stays, so the data can be looked at afterwards. Exits non-zero on any failed
 * entry or count mismatch.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { processBundle } from '../src/bundles/index.js'
import { loadConfig } from '../src/config.js'
import { createServices } from '../src/services.js'

interface Manifest {
  bundles: { file: string; entries: number; resourceCounts: Record<string, number> }[]
}

const folder = process.argv[2] ?? (process.env.SHARED_DATA_DIR ?? '../shared/data') + '/synthea/r4-synthea-2.4-transaction-bundles'
const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Manifest
const config = loadConfig({ LOG_LEVEL: 'silent', ...process.env })
const services = await createServices(config, { migrate: true })
let failures = 0
try {
  const tenantId = `synthea-${Date.now().toString(36)}`
  await services.tenants.ensure(tenantId, 'Synthea import')
  const scope = { tenantId }
  const count = async (resourceType: string) =>
    (await services.repo.search(scope, { resourceType, params: [['_count', '0']] })).total ?? Number.NaN
  const expected: Record<string, number> = {}
  for (const type of new Set(manifest.bundles.flatMap((b) => Object.keys(b.resourceCounts)))) expected[type] = await count(type)

  const ctx = { repo: services.repo, scope, baseUrl: `${config.baseUrl}/fhir/${tenantId}`, maxEntries: config.maxBundleEntries, authorize: () => {} }
  let entries = 0
  let busy = 0
  const started = performance.now()
  for (const [i, item] of manifest.bundles.entries()) {
    const body = JSON.parse(gunzipSync(readFileSync(join(folder, item.file))).toString('utf8')) as unknown
    const t0 = performance.now()
    const result = await processBundle(ctx, body)
    busy += performance.now() - t0
    const bad = result.entries.filter((e) => e.kind !== 'created').length
    if (bad) console.error(`${item.file}: ${bad} entries not created`)
    failures += bad
    for (const [type, n] of Object.entries(item.resourceCounts)) expected[type] = (expected[type] ?? 0) + n
    entries += item.entries
    if ((i + 1) % 10 === 0) process.stderr.write(`  ${i + 1}/${manifest.bundles.length} bundles, ${entries} entries\n`)
  }
  const seconds = (performance.now() - started) / 1000
  for (const [type, n] of Object.entries(expected)) {
    const got = await count(type)
    if (got !== n) {
      console.error(`${type}: ${got} stored, ${n} expected`)
      failures++
    }
  }
  console.log(
    `${manifest.bundles.length} bundles, ${entries} entries into tenant ${tenantId} on ${services.db.engine}: ` +
      `${seconds.toFixed(1)} s wall (${Math.round(entries / seconds)} resources/s), ` +
      `${(busy / 1000).toFixed(1)} s in processBundle (${Math.round(entries / (busy / 1000))} resources/s); ` +
      `${failures ? `${failures} FAILURES` : 'per-type counts equal manifest.json'}`,
  )
} finally {
  await services.close()
}
process.exitCode = failures ? 1 : 0
