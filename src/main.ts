import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createServices } from './services.js'

/** Process entry: config → services (db, migrations, bootstrap) → app → listen; graceful close. */
async function main() {
  let config
  try {
    config = loadConfig(process.env)
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`Configuration error: ${e.message}`)
      process.exit(1)
    }
    throw e
  }
  const services = await createServices(config, { migrate: true })
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

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
