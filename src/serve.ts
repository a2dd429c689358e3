import { buildApp } from './app.js'
import type { Config } from './config.js'
import { createServices, type ServiceOptions } from './services.js'

/** Config → services (db, migrations, bootstrap) → app → listen, closing both on SIGINT/SIGTERM. */
export async function serve(config: Config, options: ServiceOptions = {}): Promise<void> {
  const services = await createServices(config, { migrate: true, ...options })
  const app = await buildApp(config, services, { logger: { level: config.logLevel } })
  const close = async () => {
    await app.close()
    await services.close()
    process.exit(0)
  }
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
  await app.listen({ host: config.host, port: config.port })
  app.log.info(`Segimed FHIR on ${config.baseUrl}/fhir/{tenant} (database: ${services.db.engine})`)
}
