import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { sql } from 'kysely'
import type { Config } from './config.js'
import { FhirError } from './errors.js'
import { sendOutcome } from './fhir/outcome.js'
import { parseCorsOrigins, registerCors } from './fhir/cors.js'
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
    // A URL the router cannot even match (a path segment past maxParamLength, broken %-encoding)
    // never reaches the FHIR scope's error handler; under /fhir it still answers an OperationOutcome.
    frameworkErrors: (error, request, reply) => {
      const diagnostics =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A URL path segment is longer than 200 characters; no FHIR type, id or tenant is that long'
          : `The URL is not valid: ${error.message}`
      if (request.url.startsWith('/fhir/')) return sendOutcome(reply, new FhirError('invalid', diagnostics))
      return (reply as FastifyReply).code(400).send({ error: 'Bad Request', message: diagnostics })
    },
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

  // Before every route: preflights must be answered ahead of authentication.
  registerCors(app, { origins: parseCorsOrigins(config.corsOrigins) })
  await app.register(services.auth.routes)
  await app.register(fhirPlugin, {
    prefix: '/fhir/:tenant',
    repo: services.repo,
    tenants: services.tenants,
    auth: services.auth,
    serverUrl: config.baseUrl,
    bodyLimit: config.bodyLimit,
    maxJsonDepth: config.maxJsonDepth,
    maxBundleEntries: config.maxBundleEntries,
    jobs: services.jobs,
    operationStores: services.operationStores,
  })
  return app
}
