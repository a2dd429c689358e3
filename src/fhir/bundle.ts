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

export function historyBundle(baseUrl: string, entries: readonly HistoryEntry[], total: number, links: BundleLink[]): string {
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
 * A searchset (https://hl7.org/fhir/R4/search.html#bundle): every entry `search.mode = match`;
 * `entryJson` reshapes an entry's JSON (`_summary`, `_elements`), else the stored text is embedded as is.
 */
export function searchBundle(
  baseUrl: string,
  entries: readonly StoredResource[],
  total: number | undefined,
  links: BundleLink[],
  options: { entryJson?: (json: string) => string } = {},
): string {
  const shape = options.entryJson
  const parts = entries.map(
    (e) => `{"fullUrl":${JSON.stringify(`${baseUrl}/${e.resourceType}/${e.id}`)},"resource":${shape ? shape(e.json) : e.json},"search":{"mode":"match"}}`,
  )
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
