import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { FhirError, forbidden, invalid, isFhirError, notFound } from '../errors.js'
import { assertAllowed, type AuthContext } from './access.js'
import { verifyAccessToken } from './access-token.js'
import type { Accounts } from './accounts.js'
import type { ClientRegistration, ClientType } from './clients.js'
import type { AuthCore } from './core.js'
import { normalisePhone } from './login-names.js'
import { generateOpaqueToken } from './opaque-tokens.js'
import { canGrantRole, isAdminRole, isMembershipRole } from './roles.js'

type Body = Record<string, unknown>
type Params = { tenant: string; clientId?: string; accountId?: string }

// The admin API answers plain JSON errors; this is its slice of the kind → status table.
const STATUS: Partial<Record<FhirError['kind'], number>> = { invalid: 400, unauthorized: 401, forbidden: 403, 'not-found': 404, conflict: 409, throttled: 429 }
const FHIR_USER = /^(Practitioner|Patient|RelatedPerson)\/[A-Za-z0-9.-]{1,64}$/

/**
 * The administration API of one tenant, at /admin/{tenant}: OAuth clients and memberships for
 * tenant admins (a user token of that tenant with role tenant-admin or super-admin), and
 * EHR launch contexts for any clinician or system token of the tenant that can read Patients.
 * Bodies are checked field by field and unknown fields are refused, so no field can smuggle in
 * a role or a flag.
 */
export function adminRoutes(core: AuthCore, accounts: Accounts): FastifyPluginAsync {
  return async (app) => {
    app.setErrorHandler((err, _req, reply) => {
      if (isFhirError(err)) return reply.code(STATUS[err.kind] ?? 500).headers(err.headers).send({ error: err.kind, message: err.message })
      const status = (err as { statusCode?: number }).statusCode
      if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send({ error: 'invalid', message: (err as Error).message })
      throw err
    })

    const caller = async (req: FastifyRequest<{ Params: Params }>, options: { admin: boolean }): Promise<AuthContext> => {
      if (!(await core.tenants.find(req.params.tenant))) throw notFound(`Tenant '${req.params.tenant.slice(0, 64)}' is not known`)
      const ctx = await verifyAccessToken(core.settings, req.headers.authorization, req.params.tenant)
      if (options.admin && !isAdminRole(ctx.role)) throw forbidden('Only a tenant admin of this clinic may do this')
      return ctx
    }

    app.post<{ Params: Params }>('/admin/:tenant/clients', async (req, reply) => {
      const ctx = await caller(req, { admin: true })
      const body = fields(req.body, ['name', 'type', 'scope', 'client_id', 'redirect_uris', 'jwks', 'jwks_uri', 'launch_uri', 'all_tenants'])
      if (body.all_tenants === true && ctx.role !== 'super-admin') throw forbidden('Only a super admin registers an all-clinic app')
      const registration: ClientRegistration = {
        name: text(body, 'name', { required: true }),
        scope: text(body, 'scope', { required: true }),
        type: (text(body, 'type') || undefined) as ClientType | undefined,
        clientId: text(body, 'client_id') || undefined,
        redirectUris: list(body, 'redirect_uris'),
        jwks: body.jwks === undefined ? undefined : (body.jwks as { keys: unknown[] }),
        jwksUri: text(body, 'jwks_uri') || undefined,
        launchUri: text(body, 'launch_uri') || undefined,
        allTenants: body.all_tenants === true,
      }
      return reply.code(201).send(await core.registry.registerClient(req.params.tenant, registration))
    })

    app.get<{ Params: Params }>('/admin/:tenant/clients', async (req) => {
      await caller(req, { admin: true })
      const clients = await core.clients.listClients(req.params.tenant)
      return clients.map((c) => ({ client_id: c.client_id, name: c.name, type: c.client_type, scope: c.scope, redirect_uris: c.redirect_uris, jwks_uri: c.jwks_uri, all_tenants: c.all_tenants }))
    })

    app.delete<{ Params: Params }>('/admin/:tenant/clients/:clientId', async (req, reply) => {
      await caller(req, { admin: true })
      if (!(await core.clients.deleteClient(req.params.tenant, req.params.clientId ?? ''))) throw notFound('No such client in this clinic')
      return reply.code(204).send()
    })

    app.post<{ Params: Params }>('/admin/:tenant/memberships', async (req, reply) => {
      const ctx = await caller(req, { admin: true })
      const body = fields(req.body, ['email', 'phone', 'account_id', 'role', 'fhir_user', 'password'])
      const role = body.role
      if (!isMembershipRole(role)) throw invalid('role must be one of super-admin, tenant-admin, physician, secretary, patient')
      if (!canGrantRole(ctx.role, role)) throw forbidden(`A ${ctx.role ?? 'caller'} may not grant the role ${role}`)
      const fhirUser = text(body, 'fhir_user') || null
      if (fhirUser !== null && !FHIR_USER.test(fhirUser)) throw invalid('fhir_user must be Practitioner/id, Patient/id or RelatedPerson/id')
      if (role === 'patient' && !fhirUser) throw invalid('a patient membership needs fhir_user (Patient/id or RelatedPerson/id)')
      const account = await findOrCreateAccount(core, accounts, body)
      const existing = await core.accounts.findMembership(req.params.tenant, account.account_id)
      if (existing && !canGrantRole(ctx.role, existing.role)) throw forbidden(`A ${ctx.role ?? 'caller'} may not change a ${existing.role} membership`)
      const membership = await core.accounts.upsertMembership({ tenant_id: req.params.tenant, account_id: account.account_id, role, fhir_user: fhirUser })
      return reply.code(existing ? 200 : 201).send(membership)
    })

    app.get<{ Params: Params }>('/admin/:tenant/memberships', async (req) => {
      await caller(req, { admin: true })
      return core.accounts.listTenantMemberships(req.params.tenant)
    })

    app.delete<{ Params: Params }>('/admin/:tenant/memberships/:accountId', async (req, reply) => {
      const ctx = await caller(req, { admin: true })
      const existing = await core.accounts.findMembership(req.params.tenant, req.params.accountId ?? '')
      if (!existing) throw notFound('No such membership in this clinic')
      if (!canGrantRole(ctx.role, existing.role)) throw forbidden(`A ${ctx.role ?? 'caller'} may not remove a ${existing.role} membership`)
      await core.accounts.deleteMembership(req.params.tenant, existing.account_id)
      return reply.code(204).send()
    })

    /** EHR launch (app-launch.html#launch-app-ehr-launch): the EHR registers the context, then opens the app with `launch`. */
    app.post<{ Params: Params }>('/admin/:tenant/launch', async (req, reply) => {
      const ctx = await caller(req, { admin: false })
      if (ctx.patient || ctx.role === 'patient') throw forbidden('A patient token cannot register launch contexts')
      assertAllowed(ctx, 'Patient', 'read')
      const body = fields(req.body, ['patient', 'encounter', 'client_id'])
      const patient = text(body, 'patient') || null
      const encounter = text(body, 'encounter') || null
      if (!patient && !encounter) throw invalid('a launch context needs a patient or an encounter')
      if (patient) await core.repo.read({ tenantId: req.params.tenant }, 'Patient', patient)
      if (encounter) await core.repo.read({ tenantId: req.params.tenant }, 'Encounter', encounter)
      const launch = generateOpaqueToken(18)
      const expiresAt = new Date(core.clock().getTime() + core.lifetimes.launchContext * 1000)
      await core.grants.insertLaunch({
        tenant_id: req.params.tenant,
        launch_id: launch,
        client_id: text(body, 'client_id') || null,
        patient,
        encounter,
        created_by: ctx.userId ?? ctx.clientId,
        expires_at: expiresAt,
      })
      return reply.code(201).send({ launch, expires_at: expiresAt.toISOString() })
    })
  }
}

async function findOrCreateAccount(core: AuthCore, accounts: Accounts, body: Body) {
  const accountId = text(body, 'account_id')
  if (accountId) {
    const account = await core.accounts.findAccount(accountId)
    if (!account) throw notFound('No such account')
    return account
  }
  const email = text(body, 'email') || undefined
  const phone = text(body, 'phone') || undefined
  const byLogin = email ? await core.accounts.findAccountByLogin({ email: email.trim().toLowerCase() }) : phone ? await core.accounts.findAccountByLogin({ phone: normalisePhone(phone) ?? '' }) : undefined
  if (byLogin) return byLogin
  return accounts.createAccount({ email, phone, password: text(body, 'password') || undefined })
}

function fields(body: unknown, allowed: readonly string[]): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The body must be a JSON object')
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k))
  if (unknown.length) throw invalid(`Unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`)
  return body as Body
}

function text(body: Body, name: string, options: { required?: boolean } = {}): string {
  const v = body[name]
  if (v === undefined || v === null) {
    if (options.required) throw invalid(`${name} is required`)
    return ''
  }
  if (typeof v !== 'string') throw invalid(`${name} must be a string`)
  return v
}

function list(body: Body, name: string): string[] | undefined {
  const v = body[name]
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`${name} must be a list of strings`)
  return v as string[]
}

