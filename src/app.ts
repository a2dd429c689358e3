import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { sql } from 'kysely'
import type { Config } from './config.js'
import { fhirPlugin } from './fhir/plugin.js'
import type { Services } from './services.js'

export interface AppOptions {
  logger?: FastifyServerOptions['logger']
}

/** Builds the HTTP app from its dependencies; never listens (tests drive it with inject()). */
export async function buildApp(config: Config, services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: config.bodyLimit,
    // FHIR ids are at most 64 characters; long URLs are search queries.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  })

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(services.db.db)
      return { status: 'ok', database: services.db.engine }
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: services.db.engine })
    }
  })

  await app.register(services.auth.tokenRoutes)
  await app.register(fhirPlugin, {
    prefix: '/fhir/:tenant',
    repo: services.repo,
    tenants: services.tenants,
    auth: services.auth,
    serverUrl: config.baseUrl,
    bodyLimit: config.bodyLimit,
    maxJsonDepth: config.maxJsonDepth,
  })
  return app
}
