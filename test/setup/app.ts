import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { inject } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createServices, type Services } from '../../src/services.js'
import { freshTenantId } from './db.js'

export interface TestApp {
  app: FastifyInstance
  services: Services
  config: Config
  /** A fresh tenant with a system/*.* client and a token for it. */
  newTenant(options?: { scope?: string }): Promise<TestTenant>
  close(): Promise<void>
}

export interface TestTenant {
  tenantId: string
  token: string
  /** Sends a request under /fhir/{tenant} with the tenant's token (override with headers.authorization). */
  request(method: InjectOptions['method'], path: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>
}

/** The real app on the run's test database, with logging off. */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  // The embedded PGlite is one session behind a socket that interleaves concurrent connections'
  // protocol messages; the server uses one connection for it (src/services.ts), and so do the tests.
  const poolSize = inject('isEmbeddedDatabase') ? '1' : '8'
  const config = loadConfig({ DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent', BASE_URL: 'http://fhir.test', DB_POOL_SIZE: poolSize, ...env })
  const services = await createServices(config)
  const app = await buildApp(config, services)
  const newTenant = async (options: { scope?: string } = {}): Promise<TestTenant> => {
    const tenantId = freshTenantId()
    await services.tenants.ensure(tenantId, `Clinic ${tenantId}`)
    const client = await services.auth.createClient(tenantId, { name: 'test', scope: options.scope ?? 'system/*.*' })
    const tokenResponse = await app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret }).toString(),
    })
    const token = tokenResponse.json().access_token as string
    if (!token) throw new Error(`no token: ${tokenResponse.body}`)
    return {
      tenantId,
      token,
      request: (method, path, opts = {}) => {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...opts.headers }
        let payload: string | undefined
        if (opts.body !== undefined) {
          payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
          headers['content-type'] ??= 'application/fhir+json'
        }
        return app.inject({ method, url: `/fhir/${tenantId}${path}`, headers, payload })
      },
    }
  }
  return {
    app,
    services,
    config,
    newTenant,
    close: async () => {
      await app.close()
      await services.close()
    },
  }
}
