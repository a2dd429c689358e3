/**
 * The search scenarios of issue 3 item 7, each as the FHIR requests our server gets (values varied
 * per request) and the hand-written SQL a careful engineer would run on the same tables for the
 * same page (20 entries plus one to know whether a next page exists, ordered like ours).
 */
import { normalizeText } from '../../src/resources/indexing/normalize.js'
import { FAMILY, FEMALE_GIVEN, FIRST_YEAR, LAST_YEAR, LABS, MALE_GIVEN, SMOKING_STATUS, VITALS } from './generate.js'

export type ScenarioKind = 'simple' | 'sorted' | 'chained' | 'has' | 'include'

export interface SqlQuery {
  text: string
  values: unknown[]
}

export interface Scenario {
  name: string
  title: string
  kind: ScenarioKind
  /** Request paths under /fhir/{tenant}/, used round-robin. */
  paths: string[]
  /** Per path: the baseline's queries, run concurrently (like a page and its count). */
  sql: SqlQuery[][]
  /** For sorted scenarios: the unsorted scenario its rate is compared with. */
  unsortedOf?: string
  /** True when the Bundle must contain `search.mode = include` entries for the feature to count as supported. */
  expectsIncludes?: boolean
}

/** What the scenarios draw their values from (read from the loaded database). */
export interface Samples {
  tenantId: string
  patientIds: string[]
  /** The 50th page of a deep walk per start query: its URL path and the keyset of the last row of page 49. */
  deepPages: { path: string; code: string; afterHigh: string; afterLow: string; afterId: string }[]
}

const PAGE = 21
const MAX_CHAR = String.fromCodePoint(0x10ffff)
const COMMON_CODES = [VITALS.heartRate.code, '85354-9', VITALS.weight.code, VITALS.respiratoryRate.code, VITALS.temperature.code, VITALS.oxygen.code, VITALS.height.code, VITALS.bmi.code]
/** `_has` codes from very common (height) to rare (HbA1c, diabetics only). */
const HAS_CODES = [VITALS.height.code, LABS.cholesterol.code, LABS.hba1c.code, SMOKING_STATUS, LABS.glucose.code]

/** Name search values as users type them: whole names with or without accents, and prefixes. */
export function nameValues(): string[] {
  const names = [...FAMILY.slice(0, 40), ...MALE_GIVEN.slice(0, 10), ...FEMALE_GIVEN.slice(0, 10)]
  return names.map((n, i) => (i % 3 === 0 ? n : i % 3 === 1 ? normalizeText(n) : normalizeText(n).slice(0, 4)))
}

/** Quarter windows over the data's years: [start, end) as dates. */
function windows(): [string, string][] {
  const out: [string, string][] = []
  for (let y = FIRST_YEAR; y <= LAST_YEAR; y++) {
    for (const [a, b] of [['01', '04'], ['04', '07'], ['07', '10'], ['10', null]] as const) {
      out.push([`${y}-${a}-01`, b ? `${y}-${b}-01` : `${y + 1}-01-01`])
    }
  }
  return out
}

const sel = 'r.id, r.version_id, r.last_updated, r.content'
const live = (t: string, type: string) => `${t}.tenant_id = $1 AND ${t}.resource_type = '${type}' AND NOT ${t}.deleted`
const tokenIds = (p: string) => `SELECT t.id FROM search_token t WHERE t.tenant_id = $1 AND t.resource_type = 'Observation' AND t.param = 'code' AND t.pkey = search_key($1, 'Observation', 'code') AND t.code = ${p}`
/**
 * `date=ge{from}&date=lt{to}` with the spec's meaning for any stored range [low, high), not only the
 * generated points (so the baseline is equivalent, not a shortcut): `lt` is `low < to`; `ge` is
 * "the range above the day overlaps, or the day contains the target". Both on one row: an
 * Observation has one `date` value (effective[x]).
 */
const dateIds = (from: string, to: string) =>
  `SELECT d.id FROM search_date d WHERE d.tenant_id = $1 AND d.resource_type = 'Observation' AND d.param = 'date' AND d.pkey = search_key($1, 'Observation', 'date') AND d.low < ${to}::timestamptz
    AND (d.high > ${from}::timestamptz + interval '1 day' OR (d.low >= ${from}::timestamptz AND d.high <= ${from}::timestamptz + interval '1 day'))`
const nameRange = (from: string, to: string) => `s.tenant_id = $1 AND s.resource_type = 'Patient' AND s.param = 'name' AND s.pkey = search_key($1, 'Patient', 'name') AND s.value >= ${from} AND s.value < ${to}`

export function buildScenarios(s: Samples): Scenario[] {
  const t = s.tenantId
  const names = nameValues()
  const prefix = (n: string) => [normalizeText(n), normalizeText(n) + MAX_CHAR]
  const w = windows()
  const q = (...parts: string[]) => parts.join('&')
  const enc = encodeURIComponent
  const codeDate = Array.from({ length: 64 }, (_, i) => ({ code: COMMON_CODES[i % COMMON_CODES.length]!, window: w[(i * 7) % w.length]! }))
  const subjectCode = s.patientIds.slice(0, 100).map((id, i) => ({ id, code: COMMON_CODES[i % COMMON_CODES.length]! }))

  const codeDateSql = (c: { code: string; window: [string, string] }) =>
    `SELECT ${sel} FROM resource r WHERE ${live('r', 'Observation')} AND r.id IN (${tokenIds('$2')}) AND r.id IN (${dateIds('$3', '$4')})`
  const scenarios: Scenario[] = [
    {
      name: 'patient-name',
      title: 'Patient?name=',
      kind: 'simple',
      paths: names.map((n) => `Patient?${q(`name=${enc(n)}`, '_total=none')}`),
      sql: names.map((n) => [
        { text: `SELECT ${sel} FROM resource r WHERE ${live('r', 'Patient')} AND r.id IN (SELECT s.id FROM search_string s WHERE ${nameRange('$2', '$3')}) ORDER BY r.id LIMIT ${PAGE}`, values: [t, ...prefix(n)] },
      ]),
    },
    {
      name: 'obs-subject-code',
      title: 'Observation?subject=&code=',
      kind: 'simple',
      paths: subjectCode.map((x) => `Observation?${q(`subject=Patient/${x.id}`, `code=${enc(x.code)}`, '_total=none')}`),
      sql: subjectCode.map((x) => [
        {
          text: `SELECT ${sel} FROM resource r WHERE ${live('r', 'Observation')}
            AND r.id IN (SELECT x.id FROM search_reference x WHERE x.tenant_id = $1 AND x.resource_type = 'Observation' AND x.param = 'subject' AND x.pkey = search_key($1, 'Observation', 'subject') AND x.ref_id = $2 AND x.ref_type = 'Patient')
            AND r.id IN (${tokenIds('$3')}) ORDER BY r.id LIMIT ${PAGE}`,
          values: [t, x.id, x.code],
        },
      ]),
    },
    {
      name: 'obs-code-date',
      title: 'Observation?code=&date=ge&date=lt',
      kind: 'simple',
      paths: codeDate.map((c) => `Observation?${q(`code=${c.code}`, `date=ge${c.window[0]}`, `date=lt${c.window[1]}`, '_total=none')}`),
      sql: codeDate.map((c) => [{ text: `${codeDateSql(c)} ORDER BY r.id LIMIT ${PAGE}`, values: [t, c.code, c.window[0], c.window[1]] }]),
    },
    {
      name: 'obs-code-date-sorted',
      title: '... &_sort=-date',
      kind: 'sorted',
      unsortedOf: 'obs-code-date',
      paths: codeDate.map((c) => `Observation?${q(`code=${c.code}`, `date=ge${c.window[0]}`, `date=lt${c.window[1]}`, '_sort=-date', '_total=none')}`),
      sql: codeDate.map((c) => [
        {
          // Observation.date has one search_date row per resource: the window and the order on that row.
          text: `SELECT ${sel} FROM resource r JOIN search_date o ON o.tenant_id = $1 AND o.resource_type = 'Observation' AND o.param = 'date' AND o.pkey = search_key($1, 'Observation', 'date') AND o.id = r.id
            WHERE ${live('r', 'Observation')} AND r.id IN (${tokenIds('$2')}) AND o.low < $4::timestamptz AND o.high > $3::timestamptz
              AND (o.high > $3::timestamptz + interval '1 day' OR (o.low >= $3::timestamptz AND o.high <= $3::timestamptz + interval '1 day'))
            ORDER BY o.high DESC, o.low DESC, o.id DESC LIMIT ${PAGE}`,
          values: [t, c.code, c.window[0], c.window[1]],
        },
      ]),
    },
    {
      name: 'chained',
      title: 'Observation?subject.name=',
      kind: 'chained',
      paths: names.map((n) => `Observation?${q(`subject.name=${enc(n)}`, '_total=none')}`),
      sql: names.map((n) => [
        {
          text: `SELECT ${sel} FROM resource r WHERE ${live('r', 'Observation')} AND r.id IN (
              SELECT x.id FROM search_reference x JOIN search_string s ON ${nameRange('$2', '$3')} AND s.id = x.ref_id
              WHERE x.tenant_id = $1 AND x.resource_type = 'Observation' AND x.param = 'subject' AND x.pkey = search_key($1, 'Observation', 'subject') AND x.ref_type = 'Patient')
            ORDER BY r.id LIMIT ${PAGE}`,
          values: [t, ...prefix(n)],
        },
      ]),
    },
    {
      name: 'has',
      title: 'Patient?_has:Observation:subject:code=',
      kind: 'has',
      paths: HAS_CODES.map((c) => `Patient?${q(`_has:Observation:subject:code=${c}`, '_total=none')}`),
      sql: HAS_CODES.map((c) => [
        {
          text: `SELECT ${sel} FROM resource r WHERE ${live('r', 'Patient')} AND r.id IN (
              SELECT x.ref_id FROM search_reference x JOIN search_token t ON t.tenant_id = $1 AND t.resource_type = 'Observation' AND t.param = 'code' AND t.pkey = search_key($1, 'Observation', 'code') AND t.code = $2 AND t.id = x.id
              WHERE x.tenant_id = $1 AND x.resource_type = 'Observation' AND x.param = 'subject' AND x.pkey = search_key($1, 'Observation', 'subject') AND x.ref_type = 'Patient')
            ORDER BY r.id LIMIT ${PAGE}`,
          values: [t, c],
        },
      ]),
    },
    {
      name: 'include',
      title: 'Observation?code=&_include=Observation:subject',
      kind: 'include',
      expectsIncludes: true,
      paths: codeDate.map((c) => `Observation?${q(`code=${c.code}`, `date=ge${c.window[0]}`, `date=lt${c.window[1]}`, '_include=Observation:subject', '_total=none')}`),
      sql: codeDate.map((c) => [
        {
          text: `WITH page AS (${codeDateSql(c)} ORDER BY r.id LIMIT ${PAGE})
            SELECT 'match' AS mode, page.* FROM page
            UNION ALL
            SELECT 'include', ${sel} FROM resource r WHERE ${live('r', 'Patient')} AND r.id IN (
              SELECT x.ref_id FROM search_reference x JOIN page ON page.id = x.id
              WHERE x.tenant_id = $1 AND x.resource_type = 'Observation' AND x.param = 'subject' AND x.pkey = search_key($1, 'Observation', 'subject') AND x.ref_type = 'Patient')`,
          values: [t, c.code, c.window[0], c.window[1]],
        },
      ]),
    },
    {
      name: 'total-accurate',
      title: 'Observation?_total=accurate (all rows of the type)',
      kind: 'simple',
      // The count is the work; the page size varies so that requests differ.
      paths: Array.from({ length: 20 }, (_, i) => `Observation?_total=accurate&_count=${10 + i}`),
      sql: Array.from({ length: 20 }, (_, i) => [
        { text: `SELECT ${sel} FROM resource r WHERE ${live('r', 'Observation')} ORDER BY r.id LIMIT $2`, values: [t, 11 + i] },
        { text: `SELECT count(*) FROM resource r WHERE ${live('r', 'Observation')}`, values: [t] },
      ]),
    },
    {
      name: 'deep-page-50',
      title: 'page 50 of Observation?code=&_sort=-date',
      kind: 'simple',
      paths: s.deepPages.map((p) => p.path),
      sql: s.deepPages.map((p) => [
        {
          text: `SELECT ${sel} FROM resource r JOIN search_date o ON o.tenant_id = $1 AND o.resource_type = 'Observation' AND o.param = 'date' AND o.pkey = search_key($1, 'Observation', 'date') AND o.id = r.id
            WHERE ${live('r', 'Observation')} AND r.id IN (${tokenIds('$2')}) AND (o.high, o.low, o.id) < ($3::timestamptz, $4::timestamptz, $5)
            ORDER BY o.high DESC, o.low DESC, o.id DESC LIMIT ${PAGE}`,
          values: [t, p.code, p.afterHigh, p.afterLow, p.afterId],
        },
      ]),
    },
  ]
  return scenarios
}

/** Start queries of the deep paging walks: the common codes, newest first (enough rows for 50 pages). */
export function deepWalkStarts(): { code: string; path: string }[] {
  return COMMON_CODES.map((code) => ({ code, path: `Observation?code=${code}&_sort=-date&_count=20&_total=none` }))
}
