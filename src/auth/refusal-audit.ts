import type { AuditEvent, AuditEventAgent } from '@medplum/fhirtypes'
import type { Repository } from '../resources/index.js'
import type { AuthLog } from './auth-log.js'

/** A FHIR request refused for its token (401) or its scopes and access policy (403). */
export interface RefusalRecord {
  tenantId: string
  status: 401 | 403
  method: string
  /** The request URL; its query values are dropped before it is stored (they can hold data or secrets). */
  url: string
  /** The caller's network address. */
  address: string
  /** Why, as told to the caller (the OperationOutcome's diagnostics). */
  detail?: string
  /** Known only when the token was valid (403). */
  clientId?: string
  userId?: string
  fhirUser?: string
}

export interface RefusalAudit {
  /** Writes the AuditEvent unless this client or address has had its share this minute; never throws. */
  record(record: RefusalRecord): Promise<void>
}

const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type'
const ACTION: Record<string, AuditEvent['action']> = { POST: 'C', GET: 'R', HEAD: 'R', PUT: 'U', PATCH: 'U', DELETE: 'D' }
const WINDOW_MS = 60_000
// Counters kept before stale ones are swept: a flood from many addresses cannot grow memory without bound.
const MAX_KEYS = 10_000

interface Window {
  startedAt: number
  written: number
  /** Refusals not written in this window, reported by the first event of a later one. */
  suppressed: number
}

/**
 * AuditEvents (https://hl7.org/fhir/R4/auditevent.html) of refused FHIR requests, type `rest`,
 * outcome 4 (minor failure: no valid token, nothing happened) for 401 and 8 (serious failure:
 * a valid token tried what it may not) for 403.
 *
 * Rate limit: at most `perMinute` events per tenant and caller (the client when the token was
 * valid, else the address) and ten times that per tenant, in one-minute windows; the refusals
 * beyond are counted and the count is told in the caller's next event. The counters are per
 * process: with several instances each writes its share, which still bounds the table.
 */
export function createRefusalAudit(deps: { repo: Repository; clock: () => Date; log: AuthLog; perMinute: number }): RefusalAudit {
  const windows = new Map<string, Window>()
  const windowOf = (key: string, now: number): Window => {
    let w = windows.get(key)
    if (!w || now - w.startedAt >= WINDOW_MS) {
      if (!w && windows.size >= MAX_KEYS) sweep(windows, now)
      w = { startedAt: now, written: 0, suppressed: w?.suppressed ?? 0 }
      windows.set(key, w)
    }
    return w
  }

  return {
    async record(record) {
      const now = deps.clock()
      const caller = record.clientId ? `client:${record.clientId}` : `address:${record.address}`
      const mine = windowOf(`${record.tenantId}|${caller}`, now.getTime())
      const tenant = windowOf(`${record.tenantId}|*`, now.getTime())
      if (mine.written >= deps.perMinute || tenant.written >= deps.perMinute * 10) {
        mine.suppressed += 1
        return
      }
      mine.written += 1
      tenant.written += 1
      const carried = mine.suppressed
      mine.suppressed = 0
      try {
        await deps.repo.create({ tenantId: record.tenantId }, refusalEvent(record, now, carried))
      } catch (err) {
        deps.log.warn({ err, tenant: record.tenantId }, 'could not write the AuditEvent of a refused request')
      }
    },
  }
}

function refusalEvent(record: RefusalRecord, now: Date, carried: number): AuditEvent {
  const agent: AuditEventAgent = {
    requestor: true,
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT', display: 'author (originator)' }] },
    ...(record.fhirUser ? { who: { reference: record.fhirUser } } : {}),
    ...(record.userId ? { altId: record.userId } : {}),
    network: { address: record.address.slice(0, 100), type: '2' },
  }
  const agents: AuditEventAgent[] = [agent]
  if (record.clientId) agents.push({ requestor: false, who: { identifier: { system: 'urn:segimed:oauth-client', value: record.clientId } } })
  const note = carried > 0 ? ` (${carried} earlier refusals of this caller were not recorded: rate limit)` : ''
  const detail = `${record.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${record.detail ?? ''}`.slice(0, 400) + note
  return {
    resourceType: 'AuditEvent',
    type: { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
    action: ACTION[record.method] ?? 'E',
    recorded: now.toISOString(),
    outcome: record.status === 401 ? '4' : '8',
    outcomeDesc: detail,
    agent: agents,
    source: {
      observer: { display: 'Segimed FHIR server' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '3', display: 'Web Server' }],
    },
    entity: [{ name: `${record.method} ${withoutQueryValues(record.url)}`.slice(0, 500), type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' } }],
  }
}

/** `/fhir/t/Patient?name=Ana&_count=5` → `/fhir/t/Patient?name&_count`: which parameters, never their values. */
export function withoutQueryValues(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const names = url
    .slice(q + 1)
    .split('&')
    .map((pair) => pair.split('=')[0] ?? '')
    .filter((name) => name.length > 0)
  return names.length > 0 ? `${url.slice(0, q)}?${names.join('&')}` : url.slice(0, q)
}

function sweep(windows: Map<string, Window>, now: number): void {
  for (const [key, w] of windows) if (now - w.startedAt >= WINDOW_MS && w.suppressed === 0) windows.delete(key)
  // Still full (a flood of fresh callers): forget the oldest half rather than grow.
  if (windows.size >= MAX_KEYS) [...windows.keys()].slice(0, MAX_KEYS / 2).forEach((k) => windows.delete(k))
}
