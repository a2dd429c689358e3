import { STATUS_CODES } from 'node:http'
import type { BundleResult, EntryResult } from '../../bundles/index.js'
import type { StoredResource } from '../../resources/index.js'
import { searchBundle, type BundleLink } from '../bundle.js'
import { etagOf, type ReturnPreference } from '../headers.js'
import { informationOutcome, toOperationOutcome } from '../outcome.js'

/**
 * The `batch-response` / `transaction-response` Bundle (http.html#transaction-response): one
 * entry per request entry, in request order, each with `response.status` ("201 Created"),
 * `location` (with _history), `etag`, `lastModified`, and `resource` or `outcome` as
 * `Prefer: return` asks. Stored JSON is embedded as text, never re-serialized.
 */
export function responseBundle(result: BundleResult, baseUrl: string, preference: ReturnPreference): string {
  const entries = result.entries.map((entry) => responseEntry(entry, baseUrl, preference))
  const head = `{"resourceType":"Bundle","type":"${result.type}-response"`
  // FHIR JSON forbids empty arrays: a Bundle with no entries answers with none.
  return entries.length ? `${head},"entry":[${entries.join(',')}]}` : `${head}}`
}

function responseEntry(entry: EntryResult, baseUrl: string, preference: ReturnPreference): string {
  switch (entry.kind) {
    case 'created':
    case 'updated':
    case 'patched':
    case 'matched': {
      const status = entry.kind === 'created' ? 201 : 200
      const ref = `${entry.stored.resourceType}/${entry.stored.id}`
      const verb = entry.kind === 'matched' ? 'exists already (ifNoneExist matched it); nothing written' : `${entry.kind}: version ${entry.stored.versionId}`
      const response = { status: statusLine(status), location: `${baseUrl}/${ref}/_history/${entry.stored.versionId}`, ...versionOf(entry.stored) }
      if (preference === 'minimal') return entryJson(baseUrl, entry.stored, undefined, response)
      if (preference === 'OperationOutcome') {
        return entryJson(baseUrl, entry.stored, undefined, { ...response, outcome: informationOutcome(`Resource ${ref} ${verb}`) })
      }
      return entryJson(baseUrl, entry.stored, entry.stored.json, response)
    }
    case 'deleted':
      return JSON.stringify({ response: { status: statusLine(204), ...(entry.versionId ? { etag: etagOf(entry.versionId) } : {}) } })
    case 'read': {
      if (entry.notModified) return JSON.stringify({ response: { status: statusLine(304), ...versionOf(entry.stored) } })
      const response = { status: statusLine(200), ...versionOf(entry.stored) }
      return entryJson(baseUrl, entry.stored, entry.head ? undefined : entry.stored.json, response)
    }
    case 'searched': {
      const self = entry.url.includes('://') ? entry.url : `${baseUrl}/${entry.url.replace(/^\/+/, '')}`
      const links: BundleLink[] = [{ relation: 'self', url: self }]
      if (entry.page.next) {
        const next = new URL(self)
        next.searchParams.set('_count', String(entry.count))
        next.searchParams.delete('_offset')
        next.searchParams.set('_cursor', entry.page.next)
        links.push({ relation: 'next', url: next.toString() })
      }
      return `{"resource":${searchBundle(baseUrl, entry.page.entries, entry.page.total, links)},"response":{"status":"${statusLine(200)}"}}`
    }
    case 'failed': {
      const { status, outcome } = toOperationOutcome(entry.error)
      return JSON.stringify({ response: { status: statusLine(status), outcome } })
    }
  }
}

function entryJson(baseUrl: string, stored: StoredResource, json: string | undefined, response: object): string {
  const fullUrl = JSON.stringify(`${baseUrl}/${stored.resourceType}/${stored.id}`)
  return `{"fullUrl":${fullUrl}${json === undefined ? '' : `,"resource":${json}`},"response":${JSON.stringify(response)}}`
}

const versionOf = (stored: StoredResource) => ({ etag: etagOf(stored.versionId), lastModified: stored.lastUpdated })

const statusLine = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`.trim()
