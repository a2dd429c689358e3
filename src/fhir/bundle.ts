import type { OperationOutcome } from '@medplum/fhirtypes'
import type { HistoryEntry, StoredResource } from '../resources/index.js'
import { etagOf } from './headers.js'

/**
 * Bundle builders (https://hl7.org/fhir/R4/bundle.html). Entries embed the stored JSON text as is,
 * so a page of results is never parsed and re-serialized.
 */
export interface BundleLink {
  relation: 'self' | 'first' | 'next' | 'previous' | 'last'
  url: string
}

export function historyBundle(baseUrl: string, entries: readonly HistoryEntry[], total: number | undefined, links: BundleLink[]): string {
  const parts = entries.map((e) => {
    const fullUrl = `${baseUrl}/${e.resourceType}/${e.id}`
    const request =
      e.method === 'POST'
        ? { method: 'POST', url: e.resourceType }
        : { method: e.method, url: `${e.resourceType}/${e.id}` }
    const response = {
      status: e.deleted ? '204 No Content' : e.method === 'POST' || e.versionId === '1' ? '201 Created' : '200 OK',
      etag: etagOf(e.versionId),
      lastModified: e.lastUpdated,
    }
    const resource = e.deleted ? '' : `,"resource":${e.json}`
    return `{"fullUrl":${JSON.stringify(fullUrl)}${resource},"request":${JSON.stringify(request)},"response":${JSON.stringify(response)}}`
  })
  return wrap('history', total, links, parts)
}

/**
 * A searchset (https://hl7.org/fhir/R4/search.html#bundle): matches with `search.mode = match`, then
 * what `_include`/`_revinclude` added (`include`), then warnings as an OperationOutcome (`outcome`).
 * `entryJson` reshapes a match's JSON (`_summary`, `_elements`), else the stored text is embedded as is;
 * included resources are always whole (a `_elements` list names elements of the searched type).
 */
export function searchBundle(
  baseUrl: string,
  entries: readonly StoredResource[],
  total: number | undefined,
  links: BundleLink[],
  options: { entryJson?: (json: string) => string; included?: readonly StoredResource[]; outcome?: OperationOutcome } = {},
): string {
  const shape = options.entryJson
  const entry = (e: StoredResource, json: string, mode: 'match' | 'include') =>
    `{"fullUrl":${JSON.stringify(`${baseUrl}/${e.resourceType}/${e.id}`)},"resource":${json},"search":{"mode":"${mode}"}}`
  const parts = entries.map((e) => entry(e, shape ? shape(e.json) : e.json, 'match'))
  for (const e of options.included ?? []) parts.push(entry(e, e.json, 'include'))
  if (options.outcome) parts.push(`{"resource":${JSON.stringify(options.outcome)},"search":{"mode":"outcome"}}`)
  return wrap('searchset', total, links, parts)
}

function wrap(type: string, total: number | undefined, links: BundleLink[], entries: string[]): string {
  const head = `{"resourceType":"Bundle","type":"${type}"${total === undefined ? '' : `,"total":${total}`},"link":${JSON.stringify(links)}`
  // FHIR JSON forbids empty arrays: an empty page has no `entry` at all.
  return entries.length ? `${head},"entry":[${entries.join(',')}]}` : `${head}}`
}

/** `[base]/[path]?[params]`, the form paging clients rebuild. */
export function pageUrl(baseUrl: string, path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.append(k, v)
  const text = query.toString()
  return `${baseUrl}${path ? `/${path}` : ''}${text ? `?${text}` : ''}`
}
