import { readFileSync } from 'node:fs'
import { isMembershipRole, type ClientType } from './auth/index.js'
import type { Services } from './services.js'

/** CLI usage lines of the auth commands (appended to src/cli.ts's USAGE). */
export const AUTH_USAGE = `
  client create --tenant <slug> --name <name> --scope "<scopes>" [--type public|confidential-symmetric|confidential-asymmetric]
                [--redirect-uri <uri> ...] [--jwks-uri <url> | --jwks-file <file>] [--all-tenants]
                                                       register a client; prints {"client_id"[,"client_secret"]}
  account create --email <email> [--phone <e164>] [--password <pw>]
                                                       create an account; prints {"account_id"}
  membership set --tenant <slug> (--account <id> | --login <email or phone>) --role <role> [--fhir-user Patient/123]
                                                       role: super-admin | tenant-admin | physician | secretary | patient
  membership list --tenant <slug>                      list the tenant's memberships
  keys rotate                                          add new signing keys (the previous ones keep verifying)`

export const AUTH_OPTIONS = {
  type: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'jwks-uri': { type: 'string' },
  'jwks-file': { type: 'string' },
  'all-tenants': { type: 'boolean' },
  email: { type: 'string' },
  phone: { type: 'string' },
  password: { type: 'string' },
  account: { type: 'string' },
  login: { type: 'string' },
  role: { type: 'string' },
  'fhir-user': { type: 'string' },
} as const

export type AuthCommandValues = {
  tenant?: string
  name?: string
  scope?: string
  type?: string
  'redirect-uri'?: string[]
  'jwks-uri'?: string
  'jwks-file'?: string
  'all-tenants'?: boolean
  email?: string
  phone?: string
  password?: string
  account?: string
  login?: string
  role?: string
  'fhir-user'?: string
}

/**
 * The administrative commands of the authorization server. Returns the JSON to print, or
 * undefined when `command sub` is not one of them. Throws Error with a usage message for bad input.
 */
export async function runAuthCommand(services: Services, command: string, sub: string | undefined, values: AuthCommandValues): Promise<unknown> {
  const auth = services.auth
  const needTenant = async () => {
    if (!values.tenant) throw new Error('--tenant is required')
    if (!(await services.tenants.find(values.tenant))) throw new Error(`tenant '${values.tenant}' does not exist; create it first`)
    return values.tenant
  }
  if (command === 'client' && sub === 'create') {
    const tenantId = await needTenant()
    if (!values.name) throw new Error('client create needs --name')
    const jwks = values['jwks-file'] ? (JSON.parse(readFileSync(values['jwks-file'], 'utf8')) as { keys: unknown[] }) : undefined
    return auth.registerClient(tenantId, {
      name: values.name,
      scope: values.scope ?? 'system/*.*',
      type: (values.type ?? 'confidential-symmetric') as ClientType,
      redirectUris: values['redirect-uri'],
      jwksUri: values['jwks-uri'],
      jwks,
      allTenants: values['all-tenants'] ?? false,
    })
  }
  if (command === 'account' && sub === 'create') {
    return auth.createAccount({ email: values.email, phone: values.phone, password: values.password })
  }
  if (command === 'membership' && sub === 'set') {
    const tenantId = await needTenant()
    const accountId = values.account ?? (values.login ? await auth.findAccountId(values.login) : undefined)
    if (!accountId) throw new Error('membership set needs --account <id> or --login of an existing account')
    if (!isMembershipRole(values.role)) throw new Error('--role must be super-admin, tenant-admin, physician, secretary or patient')
    await auth.setMembership(tenantId, accountId, values.role, values['fhir-user'] ?? null)
    return { tenant: tenantId, account_id: accountId, role: values.role, fhir_user: values['fhir-user'] ?? null }
  }
  if (command === 'membership' && sub === 'list') return auth.listMemberships(await needTenant())
  if (command === 'keys' && sub === 'rotate') return { rotated: await auth.rotateSigningKeys() }
  return undefined
}
