import type { AuditEvent, AuditEventAgent } from '@medplum/fhirtypes'
import type { Repository } from '../resources/index.js'
import type { AuthLog } from './auth-log.js'

/** What happened, in the tenant's own AuditEvent log. */
export type AuditAction = 'sign-in' | 'sign-in-failed' | 'token-issued' | 'token-refused' | 'token-revoked' | 'authorize-denied'

export interface AuditRecord {
  tenantId: string
  action: AuditAction
  /** Why, in a sentence (the refusal's description). */
  detail?: string
  accountId?: string
  fhirUser?: string
  clientId?: string
  address?: string
}

export interface AuditLog {
  /** Writes the event; a failure to audit is logged, never turned into a failed sign-in. */
  record(record: AuditRecord): Promise<void>
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM'
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type'

// DICOM "User Authentication" (110114) with Login (110122) for sign-ins; the FHIR REST type for tokens.
const SHAPE: Record<AuditAction, Pick<AuditEvent, 'type' | 'subtype' | 'outcome' | 'action'>> = {
  'sign-in': { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: DCM, code: '110122', display: 'Login' }], outcome: '0', action: 'E' },
  'sign-in-failed': { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: DCM, code: '110122', display: 'Login' }], outcome: '4', action: 'E' },
  'token-issued': { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: EVENT_TYPE, code: 'rest', display: 'token issued' }], outcome: '0', action: 'C' },
  'token-refused': { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: EVENT_TYPE, code: 'rest', display: 'token refused' }], outcome: '4', action: 'E' },
  'token-revoked': { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: EVENT_TYPE, code: 'rest', display: 'token revoked' }], outcome: '0', action: 'D' },
  'authorize-denied': { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: EVENT_TYPE, code: 'rest', display: 'authorization denied' }], outcome: '4', action: 'E' },
}

/** AuditEvent resources (https://hl7.org/fhir/R4/auditevent.html) written through the Repository. */
export function createAuditLog(deps: { repo: Repository; clock: () => Date; log: AuthLog }): AuditLog {
  return {
    async record(record) {
      const agent: AuditEventAgent = {
        requestor: true,
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT', display: 'author (originator)' }] },
        ...(record.fhirUser ? { who: { reference: record.fhirUser } } : {}),
        ...(record.accountId ? { altId: record.accountId } : {}),
        ...(record.address ? { network: { address: record.address, type: '2' as const } } : {}),
      }
      const agents: AuditEventAgent[] = [agent]
      if (record.clientId) agents.push({ requestor: false, who: { identifier: { system: 'urn:segimed:oauth-client', value: record.clientId } } })
      const event: AuditEvent = {
        resourceType: 'AuditEvent',
        ...SHAPE[record.action],
        recorded: deps.clock().toISOString(),
        ...(record.detail ? { outcomeDesc: record.detail.slice(0, 500) } : {}),
        agent: agents,
        source: { observer: { display: 'Segimed FHIR authorization server' } },
      }
      try {
        await deps.repo.create({ tenantId: record.tenantId }, event)
      } catch (err) {
        deps.log.warn({ err, tenant: record.tenantId, action: record.action }, 'could not write AuditEvent')
      }
    },
  }
}
