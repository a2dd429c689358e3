import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { createDb } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { isFhirError } from './errors.js'
import { createServices } from './services.js'

const USAGE = `Usage: npm run cli -- <command>
  migrate                                              apply pending migrations
  tenant create <slug> --name "<name>"                 create a tenant (an Organization with base /fhir/<slug>)
  tenant list                                          list tenants
  client create --tenant <slug> --name <name> --scope "system/*.*"
                                                       register a client; prints {"client_id","client_secret"}`

/** The administrative CLI. Writes results to stdout as JSON, errors to stderr, exits non-zero on failure. */
async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, tenant: { type: 'string' }, scope: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  })
  const [command, sub, arg] = positionals
  if (values.help || !command) return void console.log(USAGE)
  const config = loadConfig(process.env)

  if (command === 'migrate') {
    const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 })
    try {
      const applied = await migrateToLatest(db.db)
      console.log(JSON.stringify({ applied }))
    } finally {
      await db.close()
    }
    return
  }

  const services = await createServices(config, { migrate: true })
  try {
    if (command === 'tenant' && sub === 'create') {
      if (!arg) throw new UsageError('tenant create needs a <slug>')
      const { tenant, created } = await services.tenants.ensure(arg, values.name ?? arg)
      console.log(JSON.stringify({ ...tenant, created, base: `${config.baseUrl}/fhir/${tenant.tenantId}` }))
    } else if (command === 'tenant' && sub === 'list') {
      console.log(JSON.stringify(await services.tenants.list()))
    } else if (command === 'client' && sub === 'create') {
      if (!values.tenant || !values.name) throw new UsageError('client create needs --tenant and --name')
      if (!(await services.tenants.find(values.tenant))) throw new UsageError(`tenant '${values.tenant}' does not exist; create it first`)
      const client = await services.auth.createClient(values.tenant, { name: values.name, scope: values.scope ?? 'system/*.*' })
      console.log(JSON.stringify(client))
    } else {
      throw new UsageError(`unknown command: ${positionals.join(' ')}`)
    }
  } finally {
    await services.close()
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) console.error(`${e.message}\n\n${USAGE}`)
  else if (e instanceof ConfigError) console.error(`Configuration error: ${e.message}`)
  else if (isFhirError(e)) console.error(e.message)
  else console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
