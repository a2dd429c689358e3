import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import Fastify, { type FastifyInstance } from 'fastify'
import { base64url, SignJWT } from 'jose'
import type { Db } from '../../src/db/connect.js'
import { isFhirError } from '../../src/errors.js'
import { createAuth, type Auth } from '../../src/auth/index.js'
import { createOAuthStore } from '../../src/resources/oauth-store.js'
import { authDeps } from './auth-deps.js'
import { freshTenantId, openTestDb } from '../setup/db.js'

const ISSUER = 'https://fhir.segimed.test'
const TTL = 300

let handle: Db
beforeAll(async () => {
  handle = await openTestDb()
})
afterAll(async () => {
  await handle.close()
})

async function seedTenant(): Promise<string> {
  const tenantId = freshTenantId()
  await handle.db.insertInto('tenant').values({ tenant_id: tenantId, name: `Clinic ${tenantId}`, organization_id: `org-${tenantId}` }).execute()
  return tenantId
}

/** A bare Fastify app: the token routes plus GET /fhir/:tenant/whoami, which runs auth.verify. */
async function buildTestApp(auth: Auth): Promise<FastifyInstance> {
  const app = Fastify()
  app.setErrorHandler((err, _req, reply) => {
    if (!isFhirError(err)) throw err
    const status = err.kind === 'unauthorized' ? 401 : err.kind === 'forbidden' ? 403 : 500
    return reply.code(status).headers(err.headers).send({ kind: err.kind, diagnostics: err.message })
  })
  await app.register(auth.routes)
  app.get<{ Params: { tenant: string } }>('/fhir/:tenant/whoami', async (req) => {
    const ctx = await auth.verify(req.headers.authorization, req.params.tenant)
    return { tenantId: ctx.tenantId, clientId: ctx.clientId, scope: ctx.scope, grants: ctx.scopes.length }
  })
  onTestFinished(() => app.close())
  return app
}

/** A tenant with one registered client, and an app serving it. */
async function setup(options: { scope?: string; clock?: () => Date } = {}) {
  const tenantId = await seedTenant()
  const store = createOAuthStore(handle.db)
  const auth = await createAuth(authDeps(handle.db, { store, issuer: ISSUER, tokenTtlSeconds: TTL, clock: options.clock }))
  onTestFinished(() => auth.close())
  const client = await auth.createClient(tenantId, { name: 'Backend', scope: options.scope ?? 'system/*.read' })
  const app = await buildTestApp(auth)
  return { tenantId, store, auth, app, client }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

function postToken(app: FastifyInstance, form: Record<string, string>, authorization?: string) {
  return app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    payload: new URLSearchParams(form).toString(),
  })
}

async function issueToken(app: FastifyInstance, client: { client_id: string; client_secret: string }, scope?: string): Promise<string> {
  const res = await postToken(app, { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, basic(client.client_id, client.client_secret))
  expect(res.statusCode).toBe(200)
  return res.json<{ access_token: string }>().access_token
}

const whoami = (app: FastifyInstance, tenantId: string, token: string) =>
  app.inject({ method: 'GET', url: `/fhir/${tenantId}/whoami`, headers: { authorization: `Bearer ${token}` } })

describe('POST /oauth2/token', () => {
  it('issues a Bearer token for client_secret_basic with every registered scope when none is requested', async () => {
    const { app, client, tenantId } = await setup({ scope: 'system/Patient.rs system/Observation.read' })
    const res = await postToken(app, { grant_type: 'client_credentials' }, basic(client.client_id, client.client_secret))
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json()
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: TTL, scope: 'system/Patient.rs system/Observation.read' })
    const me = await whoami(app, tenantId, body.access_token)
    expect(me.statusCode).toBe(200)
    expect(me.json()).toEqual({ tenantId, clientId: client.client_id, scope: body.scope, grants: 2 })
  })

  it('issues a token for client_secret_post (client_id and client_secret in the form body)', async () => {
    const { app, client } = await setup()
    const res = await postToken(app, { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ token_type: 'Bearer', scope: 'system/*.read' })
  })

  it('returns 401 invalid_client with WWW-Authenticate: Basic for a wrong secret', async () => {
    const { app, client } = await setup()
    const res = await postToken(app, { grant_type: 'client_credentials' }, basic(client.client_id, `${client.client_secret}x`))
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Basic /)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.json().error).toBe('invalid_client')
  })

  it('refuses an unknown client with the same 401 and error text as a wrong secret', async () => {
    const { app, client } = await setup()
    const wrongSecret = await postToken(app, { grant_type: 'client_credentials' }, basic(client.client_id, 'not-the-secret-at-all'))
    const unknown = await postToken(app, { grant_type: 'client_credentials' }, basic('no-such-client', 'not-the-secret-at-all'))
    expect(unknown.statusCode).toBe(401)
    expect(unknown.json()).toEqual(wrongSecret.json())
  })

  it('returns 400 invalid_request when grant_type is missing', async () => {
    const { app, client } = await setup()
    const res = await postToken(app, {}, basic(client.client_id, client.client_secret))
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'grant_type is required' })
  })

  it('returns 400 unsupported_grant_type for grant_type=password', async () => {
    const { app, client } = await setup()
    const res = await postToken(app, { grant_type: 'password', username: 'a', password: 'b' }, basic(client.client_id, client.client_secret))
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('unsupported_grant_type')
  })

  it('returns 400 invalid_request for a JSON body', async () => {
    const { app, client } = await setup()
    const res = await app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { authorization: basic(client.client_id, client.client_secret) },
      payload: { grant_type: 'client_credentials' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('invalid_request')
  })

  it('narrows the requested scope to the registered scopes', async () => {
    const { app, client, tenantId } = await setup({ scope: 'system/Patient.rs system/Observation.read' })
    const res = await postToken(
      app,
      { grant_type: 'client_credentials', scope: 'system/Patient.cruds system/Encounter.read' },
      basic(client.client_id, client.client_secret),
    )
    expect(res.statusCode).toBe(200)
    expect(res.json().scope).toBe('system/Patient.rs')
    expect((await whoami(app, tenantId, res.json().access_token)).json().scope).toBe('system/Patient.rs')
  })

  it('grants any requested system scope to a client registered with system/*.*', async () => {
    const { app, client } = await setup({ scope: 'system/*.*' })
    expect(await issueToken(app, client, 'system/Patient.cruds')).toBeTruthy()
  })

  it('returns 400 invalid_scope when no requested scope is registered', async () => {
    const { app, client } = await setup({ scope: 'system/Patient.read' })
    const res = await postToken(app, { grant_type: 'client_credentials', scope: 'user/Patient.read' }, basic(client.client_id, client.client_secret))
    expect(res.statusCode).toBe(400)
    expect(res.json().error).toBe('invalid_scope')
  })
})

describe('verify', () => {
  it('refuses a request without an Authorization header as unauthorized', async () => {
    const { app, tenantId } = await setup()
    const res = await app.inject({ method: 'GET', url: `/fhir/${tenantId}/whoami` })
    expect(res.statusCode).toBe(401)
    expect(res.json().diagnostics).toMatch(/Missing Authorization header/)
  })

  it('refuses an expired token as unauthorized', async () => {
    let now = new Date('2030-01-01T00:00:00Z')
    const { app, client, tenantId } = await setup({ clock: () => now })
    const token = await issueToken(app, client)
    now = new Date(now.getTime() + (TTL + 1) * 1000)
    const res = await whoami(app, tenantId, token)
    expect(res.statusCode).toBe(401)
    expect(res.json().diagnostics).toBe('Access token has expired')
  })

  it('refuses a token whose signature was tampered with as unauthorized', async () => {
    const { app, client, tenantId } = await setup()
    const [header, payload, signature = ''] = (await issueToken(app, client)).split('.')
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11)
    const res = await whoami(app, tenantId, `${header}.${payload}.${flipped}`)
    expect(res.statusCode).toBe(401)
    expect(res.json().diagnostics).toBe('Access token signature is invalid')
  })

  it('refuses a token whose payload was edited to widen its scope as unauthorized', async () => {
    const { app, client, tenantId } = await setup()
    const [header, payload = '', signature] = (await issueToken(app, client)).split('.')
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)))
    const widened = base64url.encode(JSON.stringify({ ...claims, scope: 'system/*.*' }))
    const res = await whoami(app, tenantId, `${header}.${widened}.${signature}`)
    expect(res.statusCode).toBe(401)
  })

  it('refuses an unsigned alg=none token as unauthorized', async () => {
    const { app, client, tenantId } = await setup()
    const [, payload] = (await issueToken(app, client)).split('.')
    const none = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))
    const res = await whoami(app, tenantId, `${none}.${payload}.`)
    expect(res.statusCode).toBe(401)
    expect(res.json().diagnostics).toBe('Access token algorithm is not accepted (only ES256)')
  })

  it('refuses an HS256 token (algorithm confusion) as unauthorized', async () => {
    const { app, client, tenantId } = await setup()
    const [, payload = ''] = (await issueToken(app, client)).split('.')
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)))
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('a-guessed-shared-secret-of-32-bytes'))
    const res = await whoami(app, tenantId, hs256)
    expect(res.statusCode).toBe(401)
    expect(res.json().diagnostics).toBe('Access token algorithm is not accepted (only ES256)')
  })

  it('refuses a bearer value that is not a JWT, and a non-Bearer scheme, as unauthorized', async () => {
    const { app, tenantId, client } = await setup()
    const garbage = await whoami(app, tenantId, 'not-a-jwt')
    expect(garbage.statusCode).toBe(401)
    expect(garbage.json().diagnostics).toBe('Access token is malformed')
    const wrongScheme = await app.inject({
      method: 'GET',
      url: `/fhir/${tenantId}/whoami`,
      headers: { authorization: basic(client.client_id, client.client_secret) },
    })
    expect(wrongScheme.statusCode).toBe(401)
    expect(wrongScheme.headers['www-authenticate']).toMatch(/^Bearer /)
  })

  it('refuses a token from another issuer as unauthorized', async () => {
    const { app, client, tenantId, store } = await setup()
    const token = await issueToken(app, client)
    const elsewhere = await createAuth(authDeps(handle.db, { store, issuer: 'https://other.example', tokenTtlSeconds: TTL }))
    onTestFinished(() => elsewhere.close())
    await expect(elsewhere.verify(`Bearer ${token}`, tenantId)).rejects.toMatchObject({
      kind: 'unauthorized',
      message: 'Access token was not issued by this server',
    })
  })

  it('refuses a valid token of tenant A on tenant B as unauthorized (wrong audience), without naming tenant A', async () => {
    const { app, client, tenantId } = await setup()
    const otherTenant = await seedTenant()
    const res = await whoami(app, otherTenant, await issueToken(app, client))
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/)
    expect(res.json().diagnostics).not.toContain(tenantId)
  })

  it('accepts a token issued by another instance sharing the database', async () => {
    const { app, client, tenantId, store } = await setup()
    const [second, third] = await Promise.all([1, 2].map(() => createAuth(authDeps(handle.db, { store, issuer: ISSUER, tokenTtlSeconds: TTL }))))
    onTestFinished(() => [second, third].forEach((a) => a?.close()))
    const ctx = await third!.verify(`Bearer ${await issueToken(await buildTestApp(second!), client)}`, tenantId)
    expect(ctx.clientId).toBe(client.client_id)
    expect((await whoami(app, tenantId, await issueToken(await buildTestApp(third!), client))).statusCode).toBe(200)
  })
})

describe('client registration', () => {
  it('stores the secret as a salted hash that does not contain it', async () => {
    const { client, store, tenantId, auth } = await setup()
    const row = await store.findClientInTenant(tenantId, client.client_id)
    expect(row?.secret_hash).toBeDefined()
    expect(row?.secret_hash).not.toBe(client.client_secret)
    expect(row?.secret_hash).not.toContain(client.client_secret)
    const again = await auth.createClient(tenantId, { name: 'Same secret', scope: 'system/*.read', clientSecret: client.client_secret })
    const other = await store.findClientInTenant(tenantId, again.client_id)
    expect(other?.secret_hash).not.toBe(row?.secret_hash)
  })

  it('ensureClient called twice at once creates one client whose secret works', async () => {
    const { auth, app, store, tenantId } = await setup()
    const options = { clientId: `boot-${tenantId}`, clientSecret: 'bootstrap-secret-0123456789', name: 'Bootstrap', scope: 'system/*.*' }
    await Promise.all([auth.ensureClient(tenantId, options), auth.ensureClient(tenantId, options)])
    await auth.ensureClient(tenantId, options)
    expect((await store.findClient(options.clientId))?.tenant_id).toBe(tenantId)
    expect(await issueToken(app, { client_id: options.clientId, client_secret: options.clientSecret })).toBeTruthy()
  })

  it('ensureClient refuses a client_id that belongs to another tenant', async () => {
    const { auth, client } = await setup()
    const otherTenant = await seedTenant()
    const options = { clientId: client.client_id, clientSecret: 'bootstrap-secret-0123456789', name: 'Bootstrap', scope: 'system/*.*' }
    await expect(auth.ensureClient(otherTenant, options)).rejects.toMatchObject({ kind: 'conflict' })
  })

  it('createClient refuses a client_id that is already taken', async () => {
    const { auth, client, tenantId } = await setup()
    await expect(auth.createClient(tenantId, { name: 'Dup', scope: 'system/*.read', clientId: client.client_id })).rejects.toMatchObject({
      kind: 'conflict',
    })
  })
})
