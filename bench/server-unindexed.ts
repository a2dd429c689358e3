/**
 * Our server with search indexing switched off, for one purpose: `npm run bench` measures what
 * indexing adds to a create over HTTP (issue 3: "indexing at most doubles the cost of a create").
 * Everything else is src/main.ts: config, validation, auth, history, group commit. Its writes
 * carry no index rows, so its searches miss them; nothing but this file turns indexing off.
 */
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createServices } from '../src/services.js'

const config = loadConfig(process.env)
const services = await createServices(config, { migrate: true, indexing: false })
const app = await buildApp(config, services, { logger: { level: config.logLevel } })
const close = async () => {
  await app.close()
  await services.close()
  process.exit(0)
}
process.once('SIGINT', close)
process.once('SIGTERM', close)
await app.listen({ host: config.host, port: config.port })
