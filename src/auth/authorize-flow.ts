import type { Patient, RelatedPerson } from '@medplum/fhirtypes'
import { isFhirError } from '../errors.js'
import type { Membership, OAuthClient } from '../resources/index.js'
import type { PendingRequest } from './authorize-request.js'
import type { AuthCore } from './core.js'
import { generateOpaqueToken, hashOpaqueToken } from './opaque-tokens.js'
import { roleScope } from './roles.js'
import { narrowScope, parseScope, splitScope } from './scopes.js'

/** What the signed-in person would grant: decided afresh at each step, never read from the form. */
export interface Grant {
  client: OAuthClient
  tenantId: string
  tenantName: string
  membership: Membership
  scope: string
  patient?: string
  encounter?: string
}

export type FlowStep =
  | { kind: 'ready'; grant: Grant }
  | { kind: 'pick-clinic'; clinics: { tenantId: string; name: string }[] }
  | { kind: 'pick-patient' }
  | { kind: 'denied'; code: 'access_denied' | 'invalid_scope' | 'invalid_request'; description: string }

const PICKER_SIZE = 50

/**
 * From a validated request and a signed-in account to what is granted (SMART App Launch
 * scopes-and-launch-context.html): the clinic (fixed by `aud` or picked), the membership there,
 * scope = requested ∩ registered for the client ∩ allowed for the role, and the launch context
 * (the patient's own record, an EHR launch, or the patient picker).
 */
export async function resolveGrant(core: AuthCore, request: PendingRequest, accountId: string): Promise<FlowStep> {
  const client = await core.clients.findClient(request.clientId)
  if (!client) return { kind: 'denied', code: 'invalid_request', description: 'The client is no longer registered' }
  let tenantId = request.tenantId
  if (!tenantId) {
    const memberships = await core.accounts.listMemberships(accountId)
    if (memberships.length === 0) return { kind: 'denied', code: 'access_denied', description: 'The account belongs to no clinic' }
    if (memberships.length > 1) return { kind: 'pick-clinic', clinics: memberships.map((m) => ({ tenantId: m.tenant_id, name: m.tenant_name })) }
    tenantId = memberships[0]!.tenant_id
  }
  const membership = await core.accounts.findMembership(tenantId, accountId)
  if (!membership) return { kind: 'denied', code: 'access_denied', description: 'The account has no membership in this clinic' }
  const tenant = await core.tenants.find(tenantId)
  let scope = narrowScope(narrowScope(request.scope, client.scope), roleScope(membership.role))
  const has = (s: string) => splitScope(scope).includes(s)

  let patient: string | undefined
  let encounter: string | undefined
  if (membership.role === 'patient') {
    patient = await ownPatient(core, tenantId, membership.fhir_user)
    if (!patient) return { kind: 'denied', code: 'access_denied', description: 'The account is not linked to a patient record in this clinic' }
  } else if (request.launch && has('launch')) {
    const launch = await core.grants.findLaunch(tenantId, request.launch, core.clock())
    if (!launch || (launch.client_id && launch.client_id !== client.client_id)) {
      return { kind: 'denied', code: 'invalid_request', description: 'The launch parameter is unknown or has expired' }
    }
    patient = launch.patient ?? undefined
    encounter = launch.encounter ?? undefined
  } else if (has('launch/patient')) {
    if (!request.patient) return { kind: 'pick-patient' }
    if (!(await patientExists(core, tenantId, request.patient))) return { kind: 'pick-patient' }
    patient = request.patient
  }

  // Drop what cannot be honoured: patient scopes without a patient, context without context.
  scope = splitScope(scope)
    .filter((s) => {
      if (s === 'launch') return !!request.launch && (!!patient || !!encounter)
      if (s === 'launch/patient') return !!patient
      if (s === 'launch/encounter') return !!encounter
      if (s === 'fhirUser') return !!membership.fhir_user
      return parseScope(s)?.context !== 'patient' || !!patient
    })
    .join(' ')
  if (!splitScope(scope).some((s) => parseScope(s))) {
    return { kind: 'denied', code: 'invalid_scope', description: 'None of the requested scopes can be granted to this account with this app' }
  }
  return { kind: 'ready', grant: { client, tenantId, tenantName: tenant?.name ?? tenantId, membership, scope, patient, encounter } }
}

/** Stores a single-use code (2 minutes) for the grant and returns it. */
export async function createAuthorizationCode(core: AuthCore, request: PendingRequest, grant: Grant, authTime: Date): Promise<string> {
  const code = generateOpaqueToken()
  await core.grants.insertCode({
    tenant_id: grant.tenantId,
    code_hash: hashOpaqueToken(code),
    client_id: grant.client.client_id,
    account_id: grant.membership.account_id,
    redirect_uri: request.redirectUri,
    scope: grant.scope,
    code_challenge: request.codeChallenge,
    patient: grant.patient ?? null,
    encounter: grant.encounter ?? null,
    fhir_user: grant.membership.fhir_user,
    role: grant.membership.role,
    nonce: request.nonce ?? null,
    auth_time: authTime,
    expires_at: new Date(core.clock().getTime() + core.lifetimes.authorizationCode * 1000),
  })
  return code
}

/** Patients for the picker, optionally filtered by name. */
export async function listPatients(core: AuthCore, tenantId: string, query: string): Promise<{ id: string; name: string; birthDate?: string }[]> {
  const params: [string, string][] = [['_count', String(PICKER_SIZE)]]
  if (query.trim()) params.push(['name', query.trim()])
  const page = await core.repo.search({ tenantId }, { resourceType: 'Patient', params })
  return page.entries.map((e) => {
    const p = JSON.parse(e.json) as Patient
    return { id: e.id, name: displayName(p), ...(p.birthDate ? { birthDate: p.birthDate } : {}) }
  })
}

export async function patientName(core: AuthCore, tenantId: string, id: string): Promise<string | undefined> {
  try {
    return displayName(JSON.parse((await core.repo.read({ tenantId }, 'Patient', id)).json) as Patient)
  } catch (e) {
    if (isFhirError(e)) return undefined
    throw e
  }
}

export function displayName(p: Patient): string {
  const name = p.name?.[0]
  return name?.text ?? ([...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || p.id || '')
}

/** A patient user's own Patient id: Patient/x itself, or the patient of RelatedPerson/z. */
async function ownPatient(core: AuthCore, tenantId: string, fhirUser: string | null): Promise<string | undefined> {
  if (fhirUser?.startsWith('Patient/')) return fhirUser.slice('Patient/'.length)
  if (!fhirUser?.startsWith('RelatedPerson/')) return undefined
  try {
    const related = JSON.parse((await core.repo.read({ tenantId }, 'RelatedPerson', fhirUser.slice('RelatedPerson/'.length))).json) as RelatedPerson
    return /^Patient\/([A-Za-z0-9.-]{1,64})$/.exec(related.patient?.reference ?? '')?.[1]
  } catch (e) {
    if (isFhirError(e)) return undefined
    throw e
  }
}

async function patientExists(core: AuthCore, tenantId: string, id: string): Promise<boolean> {
  return (await patientName(core, tenantId, id)) !== undefined
}
