/**
 * $export memory and speed: seeds N Observations (+ N/5 Patients) straight into the `resource`
 * table of a scratch database, runs a system-level $export through the real app and reports
 * resources/s and the process's peak RSS, beside a single-stream COPY baseline (psql `\copy ... TO` a file) of
 * the same rows. Run: `npx tsx bench/export/memory.ts 100000 250000` (sizes; default 100000).
 * Env: BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createServices } from '../../src/services.js'

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0)
const OBS = JSON.stringify({
  resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'Heart rate' },
  effectiveDateTime: '2024-05-01T10:00:00Z', valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  note: [{ text: 'x'.repeat(1100) }],
})

async function main() {
  const dbName = `segimed_export_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const url = new URL(serverUrl)
  url.pathname = `/${dbName}`
  const bulkDir = mkdtempSync(join(tmpdir(), 'segimed-export-bench-'))
  try {
    const config = loadConfig({ DATABASE_URL: url.toString(), LOG_LEVEL: 'silent', BASE_URL: 'http://bench', BULK_DIR: bulkDir, JOB_MIN_POLL_MS: '0' })
    const services = await createServices(config, { migrate: true })
    const app = await buildApp(config, services)
    const seeder = new pg.Client({ connectionString: url.toString() })
    await seeder.connect()
    try {
      for (const n of sizes.length ? sizes : [100_000]) {
        const tenantId = `bench-${n}`
        await services.tenants.ensure(tenantId, tenantId)
        const client = await services.auth.createClient(tenantId, { name: 'bench', scope: 'system/*.read' })
        const token = (await app.inject({ method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', ...client }).toString() })).json().access_token as string
        await seeder.query(
          `INSERT INTO resource (tenant_id, resource_type, id, version_id, last_updated, content)
           SELECT $1, t, t || '-' || g, 1, now() - interval '1 hour',
                  jsonb_set(jsonb_set($2::jsonb, '{id}', to_jsonb(t || '-' || g)), '{resourceType}', to_jsonb(t))::text
           FROM generate_series(1, $3::int) g, LATERAL (SELECT CASE WHEN g % 6 = 0 THEN 'Patient' ELSE 'Observation' END AS t) x`,
          [tenantId, OBS, n],
        )
        await seeder.query('VACUUM ANALYZE resource')
        global.gc?.()
        const baseRss = process.memoryUsage().rss
        const baseHeap = process.memoryUsage().heapUsed
        let peak = baseRss
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
        const started = performance.now()
        const kick = await app.inject({ method: 'GET', url: `/fhir/${tenantId}/$export`, headers: { authorization: `Bearer ${token}`, prefer: 'respond-async' } })
        if (kick.statusCode !== 202) throw new Error(kick.body)
        const jobId = String(kick.headers['content-location']).split('/').pop()!
        await services.jobs.settled(jobId)
        const seconds = (performance.now() - started) / 1000
        clearInterval(sampler)
        // What the export keeps once garbage is collected: the peak above is V8 collecting lazily
        // under a high allocation rate; flat memory means this stays near zero at any size.
        global.gc?.()
        const retainedHeap = process.memoryUsage().heapUsed - baseHeap
        const manifest = (await app.inject({ method: 'GET', url: `/fhir/${tenantId}/$job/${jobId}`, headers: { authorization: `Bearer ${token}` } })).json()
        const count = (manifest.output as { type: string; count: number }[]).filter((o) => o.type !== 'AuditEvent').reduce((a, o) => a + o.count, 0)

        const copyStart = performance.now()
        const copied = await copyBaseline(url.toString(), tenantId, bulkDir)
        const copySeconds = (performance.now() - copyStart) / 1000
        const rate = count / seconds
        console.log(
          `${n} resources: exported ${count} in ${seconds.toFixed(2)} s = ${Math.round(rate)} res/s; ` +
            `COPY baseline ${copied} rows in ${copySeconds.toFixed(2)} s = ${Math.round(copied / copySeconds)} rows/s (ratio ${(rate / (copied / copySeconds)).toFixed(2)}); ` +
            `RSS before ${mb(baseRss)} MB, peak ${mb(peak)} MB (+${mb(peak - baseRss)} MB); heap retained after GC ${mb(retainedHeap)} MB`,
        )
      }
    } finally {
      await seeder.end()
      await app.close()
      await services.close()
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName}`)
    await admin.end()
    rmSync(bulkDir, { recursive: true, force: true })
  }
}

/**
 * The floor: one `COPY (SELECT content ...) TO` a file through psql's `\copy` (a single stream
 * from the database to a local file, what the export writes too), rows counted.
 */
async function copyBaseline(url: string, tenantId: string, bulkDir: string): Promise<number> {
  const file = join(bulkDir, 'copy-baseline.ndjson')
  const query = `SELECT content FROM resource WHERE tenant_id = '${tenantId.replace(/'/g, "''")}' AND NOT deleted AND resource_type IN ('Patient', 'Observation')`
  const out = execFileSync('psql', [url, '-X', '-c', `\\copy (${query}) TO '${file}'`], { encoding: 'utf8' })
  const copied = Number(/COPY (\d+)/.exec(out)?.[1] ?? NaN)
  rmSync(file, { force: true })
  return copied
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024)

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
