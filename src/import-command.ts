import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { invalid, notFound } from './errors.js'
import { ImportProgressBar } from './import-progress.js'
import { importJsonDocument, importLines, readLines, IMPORT_RULE, type ImportReport } from './operations/index.js'
import type { Services } from './services.js'

/** File names the import command reads. */
const IMPORTABLE = /\.(ndjson|json)(\.gz)?$/i

export interface ImportCommandResult {
  readonly files: readonly ImportReport[]
  readonly totals: { lines: number; created: number; updated: number; unchanged: number; failed: number }
  readonly seconds: number
  readonly resourcesPerSecond: number
  readonly rule: string
}

/**
 * `npm run cli -- import --tenant <slug> <files or folders...>`: imports `.ndjson`, `.ndjson.gz`
 * (one resource per line, by the import rule) and `.json`, `.json.gz` (a resource or a Bundle;
 * transaction and batch Bundles run as `POST [base]` would) into one tenant. Folders are read
 * recursively. A progress bar (counts, rate) goes to stderr; each failure is printed there as
 * `file:line: reason`. The result (per-file counts and failures) is returned for stdout; the
 * caller exits non-zero when any line failed. Throws `not-found` for an unknown tenant or path,
 * `invalid` for a file that is not importable or no file at all.
 */
export async function runImportCommand(
  services: Services,
  options: { tenant: string; paths: readonly string[]; baseUrl: string; stderr?: NodeJS.WriteStream },
): Promise<ImportCommandResult> {
  const tenant = await services.tenants.find(options.tenant)
  if (!tenant) throw notFound(`Tenant '${options.tenant}' is not known; create it first: npm run cli -- tenant create ${options.tenant} --name "..."`)
  const files = importOrder(options.paths.flatMap((p) => expand(p)))
  if (files.length === 0) throw invalid(`No .ndjson, .ndjson.gz, .json or .json.gz file in ${options.paths.join(', ')}`)
  const stderr = options.stderr ?? process.stderr
  const target = { repo: services.repo, scope: { tenantId: tenant.tenantId }, baseUrl: `${options.baseUrl}/fhir/${tenant.tenantId}` }
  const bar = new ImportProgressBar(stderr, files.map((f) => f.size))
  const started = performance.now()
  const reports: ImportReport[] = []
  for (const [n, file] of files.entries()) {
    bar.startFile(n, basename(file.path))
    const onProgress = (counts: { lines: number }) => bar.update(counts.lines)
    let report: ImportReport
    if (/\.ndjson(\.gz)?$/i.test(file.path)) {
      const lines = readLines(createReadStream(file.path, { highWaterMark: 1024 * 1024 }), (bytes) => bar.addBytes(bytes))
      report = await importLines(target, file.path, lines, { onProgress })
    } else {
      const raw = readFileSync(file.path)
      bar.addBytes(raw.length)
      const text = (/\.gz$/i.test(file.path) ? gunzipSync(raw) : raw).toString('utf8')
      report = await importJsonDocument(target, file.path, text, { onProgress })
    }
    bar.endFile(report)
    for (const f of report.failures) bar.log(`${file.path}:${f.line}: ${f.reason}`)
    if (report.failuresOmitted) bar.log(`${file.path}: ${report.failuresOmitted} more failures not listed`)
    reports.push(report)
  }
  const seconds = (performance.now() - started) / 1000
  const totals = { lines: 0, created: 0, updated: 0, unchanged: 0, failed: 0 }
  for (const r of reports) for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += r[key]
  const resourcesPerSecond = Math.round((totals.created + totals.updated + totals.unchanged) / Math.max(seconds, 1e-3))
  bar.finish(`${totals.lines} lines in ${seconds.toFixed(1)} s: ${totals.created} created, ${totals.updated} updated, ${totals.unchanged} unchanged, ${totals.failed} failed (${resourcesPerSecond}/s)`)
  return { files: reports, totals, seconds: Math.round(seconds * 10) / 10, resourcesPerSecond, rule: IMPORT_RULE }
}

/** A path as its importable files (a folder recursively, by name). */
function expand(path: string): { path: string; size: number }[] {
  let info
  try {
    info = statSync(path)
  } catch {
    throw notFound(`No file or folder at ${path}`)
  }
  if (info.isFile()) {
    if (!IMPORTABLE.test(path)) throw invalid(`${path} is not importable: use .ndjson, .ndjson.gz, .json or .json.gz`)
    return [{ path, size: info.size }]
  }
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const child = join(path, entry.name)
      if (entry.isDirectory()) return expand(child)
      return entry.isFile() && IMPORTABLE.test(entry.name) ? [{ path: child, size: statSync(child).size }] : []
    })
}

/**
 * Synthea's `hospitalInformation*` and `practitionerInformation*` files go first: the patient
 * bundles refer to their Organizations, Locations and Practitioners by conditional references.
 * Otherwise the order given (folders by name) is kept.
 */
function importOrder<T extends { path: string }>(files: T[]): T[] {
  const rank = (path: string) => (/^hospitalInformation/.test(basename(path)) ? 0 : /^practitionerInformation/.test(basename(path)) ? 1 : 2)
  return files.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f.path) - rank(b.f.path) || a.i - b.i).map(({ f }) => f)
}
