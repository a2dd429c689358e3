import { invalid, notFound } from '../errors.js'
import { isResourceType } from '../resources/index.js'
import type { EntryTarget } from './types.js'

/**
 * Parses `Bundle.entry.request.url` (http.html#transaction): relative to the base
 * (`Patient`, `Patient/1`, `Patient/1/_history/2`, `Patient?identifier=a|b`) or absolute on
 * this server's base. Other absolute URLs, operations and history listings are refused.
 */
export function parseEntryUrl(url: string, baseUrl: string): EntryTarget {
  let rest = url.trim()
  if (/^[a-z][a-z0-9+.-]*:/i.test(rest)) {
    if (!rest.startsWith(`${baseUrl}/`)) throw invalid(`Entry URL '${clip(url)}' is absolute but not on this server's base ${baseUrl}`)
    rest = rest.slice(baseUrl.length + 1)
  }
  rest = rest.replace(/^\/+/, '')
  const q = rest.indexOf('?')
  const path = q < 0 ? rest : rest.slice(0, q)
  const query = q < 0 ? undefined : rest.slice(q + 1)
  const segments = path.split('/').map(decodeSegment)
  const [resourceType, id, history, versionId, ...more] = segments
  if (!resourceType) throw invalid(`Entry URL '${clip(url)}' names no resource type`)
  if (!isResourceType(resourceType)) {
    throw notFound(`Resource type '${clip(resourceType)}' is not a FHIR R4 resource type supported here`, 'MSG_UNKNOWN_TYPE')
  }
  if (id === undefined) return { form: 'type', resourceType, ...(query ? { query } : {}) }
  if (id.startsWith('$') || id === '_history' || id === '_search') throw unsupported(url)
  if (history === undefined && query === undefined) return { form: 'instance', resourceType, id }
  if (history === '_history' && versionId !== undefined && more.length === 0 && query === undefined) {
    return { form: 'version', resourceType, id, versionId }
  }
  throw unsupported(url)
}

function unsupported(url: string) {
  return invalid(`Entry URL '${clip(url)}' is not supported in a Bundle: use [type], [type]/[id], [type]/[id]/_history/[vid] or [type]?[search]`)
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw invalid(`Entry URL segment '${clip(segment)}' is not valid percent-encoding`)
  }
}

const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}…` : s)
