/**
 * Before a scenario is loaded: one request to see whether the server supports it yet (a feature
 * another engineer has not landed answers 400 under `Prefer: handling=strict`), and a check that
 * the server's first page holds the same resources as the hand-written SQL's. Also the deep
 * paging walk that finds each 50th page.
 */
import type pg from 'pg'
import type { Scenario } from './scenarios.js'

interface BundleJson {
  total?: number
  link?: { relation: string; url: string }[]
  entry?: { resource?: { resourceType?: string; id?: string }; search?: { mode?: string } }[]
  issue?: { diagnostics?: string }[]
}

export interface Probe {
  /** Set when the server cannot run the scenario yet: its answer, shortened. */
  unsupported?: string
  /** Set when the page differs from the baseline's rows. */
  mismatch?: string
  note: string
}

async function getJson(origin: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: BundleJson }> {
  const res = await fetch(`${origin}${path}`, { headers })
  const text = await res.text()
  let body: BundleJson = {}
  try {
    body = JSON.parse(text) as BundleJson
  } catch {
    body = { issue: [{ diagnostics: text.slice(0, 200) }] }
  }
  return { status: res.status, body }
}

export async function probeScenario(origin: string, tenant: string, headers: Record<string, string>, scenario: Scenario, pool: pg.Pool): Promise<Probe> {
  const { status, body } = await getJson(origin, `/fhir/${tenant}/${scenario.paths[0]}`, headers)
  if (status !== 200) {
    const why = `${status} ${(body.issue ?? []).map((i) => i.diagnostics).join('; ').slice(0, 160)}`
    return { unsupported: why, note: `server answered ${why}: not measured, SQL baseline only` }
  }
  const entries = body.entry ?? []
  const matches = entries.filter((e) => (e.search?.mode ?? 'match') === 'match').map((e) => e.resource?.id ?? '')
  const included = entries.filter((e) => e.search?.mode === 'include').length
  const results = await Promise.all(scenario.sql[0]!.map((q) => pool.query(q.text, q.values)))
  const rows = results[0]!.rows as { id: string; mode?: string }[]
  const sqlMatches = rows.filter((r) => r.mode !== 'include').map((r) => r.id)
  const sqlIncluded = rows.filter((r) => r.mode === 'include').length
  const problems: string[] = []
  // The baseline reads one row more than the page (to know whether a next page exists).
  const pageSize = Number(new URLSearchParams(scenario.paths[0]!.split('?')[1]).get('_count') ?? 20)
  const expected = sqlMatches.slice(0, pageSize)
  if (matches.length !== expected.length || expected.some((id, i) => id !== matches[i])) {
    problems.push(`ours ${matches.length} ids [${matches.slice(0, 3).join(', ')}...], SQL ${sqlMatches.length} [${sqlMatches.slice(0, 3).join(', ')}...]`)
  }
  const count = (results[1]?.rows[0] as { count?: string } | undefined)?.count
  if (count !== undefined && Number(count) !== body.total) problems.push(`total ${body.total} vs count ${count}`)
  const note = `first page: ${matches.length} matches${scenario.expectsIncludes ? ` + ${included} included` : ''}` +
    `${body.total !== undefined ? `, total ${body.total}` : ''}; SQL ${sqlMatches.length} rows${sqlIncluded ? ` + ${sqlIncluded} included` : ''}` +
    (problems.length ? `; DIFFERENT: ${problems.join('; ')}` : '; same resources in the same order')
  if (scenario.expectsIncludes && included === 0) {
    return { unsupported: '200 without included entries (_include not resolved yet)', note: `${note}; no included entries: not measured` }
  }
  return { mismatch: problems.length ? problems.join('; ') : undefined, note }
}

/**
 * Follows `next` from the first page of `path` until page `pageNumber - 1`; returns the 50th page's
 * path (under /fhir/{tenant}/) and the id of the last row before it, or undefined when the walk
 * runs out of pages first.
 */
export async function walkToPage(origin: string, tenant: string, headers: Record<string, string>, path: string, pageNumber: number) {
  const prefix = `/fhir/${tenant}/`
  let next: string | undefined = `${origin}${prefix}${path}`
  for (let page = 1; page < pageNumber; page++) {
    if (!next) return undefined
    const { status, body } = await getJson(origin, next.slice(origin.length), headers)
    if (status !== 200) throw new Error(`deep walk ${path}: page ${page} answered ${status} ${JSON.stringify(body.issue ?? '')}`)
    const last = body.entry?.[body.entry.length - 1]?.resource?.id
    next = body.link?.find((l) => l.relation === 'next')?.url
    if (page === pageNumber - 1) {
      if (!next || !last) return undefined
      if (!next.startsWith(origin + prefix)) throw new Error(`deep walk: next link ${next} is not under ${origin}${prefix}`)
      return { path: next.slice(origin.length + prefix.length), afterId: last }
    }
  }
  return undefined
}
