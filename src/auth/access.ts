import { forbidden } from '../errors.js'
import type { AccessPolicy } from '../resources/index.js'
import type { ScopeContext, ScopeGrant, ScopeLetter } from './scopes.js'

/** What the FHIR layer knows about the caller of one request; built by `Auth.verify`. */
export interface AuthContext {
  tenantId: string
  clientId: string
  /** The signed-in account of a user token (absent for backend-service tokens). */
  userId?: string
  /** The user's FHIR identity (`Practitioner/123`). */
  fhirUser?: string
  /** The account's role in this tenant (user tokens). */
  role?: string
  /** The patient id of a patient-context token (compartment restriction). */
  patient?: string
  encounter?: string
  /** The granted scope string, parsed. */
  scopes: readonly ScopeGrant[]
  /** The granted scope string, as issued. */
  scope: string
  /** The token's id (revocation). */
  jti?: string
  /**
   * Per-resource limits (patient compartment, granular scopes); put on the RequestScope so the
   * guarded repository applies them. Absent when the scopes need none.
   */
  access?: AccessPolicy
}

/** FHIR RESTful interactions, named as in https://hl7.org/fhir/R4/http.html. */
export type Interaction = 'create' | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history' | 'search' | 'operation'

/**
 * The SMART v2 letters any one of which allows an interaction. Instance history is a read;
 * type and system history list many resources, so a search grant allows them too. An
 * operation needs a read grant on its type; an operation that writes checks the write
 * interaction itself as well.
 */
function lettersFor(interaction: Interaction, level: 'instance' | 'type' | 'system'): readonly ScopeLetter[] {
  switch (interaction) {
    case 'read':
    case 'vread':
    case 'operation':
      return ['r']
    case 'history':
      return level === 'instance' ? ['r'] : ['r', 's']
    case 'search':
      return ['s']
    case 'create':
      return ['c']
    case 'update':
    case 'patch':
      return ['u']
    case 'delete':
      return ['d']
  }
}

const V1_NAME: Record<ScopeLetter, string> = { c: 'write', r: 'read', u: 'write', d: 'write', s: 'read' }

/**
 * Throws FhirError `forbidden` unless one of the granted scopes allows `interaction` on
 * `resourceType` (SMART v1 `.read` = rs, `.write` = cud; v2 `.cruds`). A `*` grant covers every
 * type; pass resourceType '*' for a system-level interaction, which then needs a `*` grant.
 * Compartment restriction of patient-scoped tokens is not decided here.
 * https://hl7.org/fhir/smart-app-launch/STU2/scopes-and-launch-context.html
 */
export function assertAllowed(
  ctx: AuthContext,
  resourceType: string,
  interaction: Interaction,
  options: { level?: 'instance' | 'type' | 'system' } = {},
): void {
  const letters = lettersFor(interaction, options.level ?? 'instance')
  const isAllowed = ctx.scopes.some(
    (grant) => (grant.resourceType === '*' || grant.resourceType === resourceType) && letters.some((l) => grant.interactions.has(l)),
  )
  if (isAllowed) return
  const prefix = `${contextOf(ctx)}/${resourceType}`
  const alternatives = [...letters.map((l) => `${prefix}.${l}`), ...new Set(letters.map((l) => `${prefix}.${V1_NAME[l]}`))]
  throw forbidden(`Scope does not allow ${interaction} on ${resourceType}: needs ${joinOr(alternatives)}`)
}

/** The SMART context the token speaks for, used to name the missing scope. */
const contextOf = (ctx: AuthContext): ScopeContext => (ctx.patient ? 'patient' : ctx.userId || ctx.fhirUser ? 'user' : 'system')

const joinOr = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
