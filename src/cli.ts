import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { createDb } from './db/connect.js'
import { migrateToLatest } from './db/migrate.js'
import { isFhirError } from './errors.js'
import { createServices } from './services.js'
import { runImportCommand } from './import-command.js'
import { AUTH_OPTIONS, AUTH_USAGE, runAuthCommand } from './auth-commands.js'

const USAGE = `Usage: npm run cli -- <command>
  migrate                                              apply pending migrations
  tenant create <slug> --name "<name>"                 create a tenant (an Organization with base /fhir/<slug>)
  tenant list                                          list tenants
  client create --tenant <slug> --name <name> --scope "system/*.*"
                                                       register a client; prints {"client_id","client_secret"}
  import --tenant <slug> <files or folders...>         import .ndjson[.gz] and .json[.gz] (resources, Bundles); progress on
                                                       stderr, per-file counts as JSON; exits 1 when a line failed${AUTH_USAGE}`

/** The administrative CLI. Writes results to stdout as JSON, errors to stderr, exits non-zero on failure. */
async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, tenant: { type: 'string' }, scope: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...AUTH_OPTIONS },
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
    } else if (command === 'import') {
      if (!values.tenant) throw new UsageError('import needs --tenant <slug>')
      const paths = positionals.slice(1)
      if (paths.length === 0) throw new UsageError('import needs at least one file or folder')
      const result = await runImportCommand(services, { tenant: values.tenant, paths, baseUrl: config.baseUrl })
      console.log(JSON.stringify(result))
      if (result.totals.failed > 0) process.exitCode = 1
    } else {
      // client, account, membership and keys commands (src/auth-commands.ts)
      const result = await runAuthCommand(services, command, sub, values)
      if (result === undefined) throw new UsageError(`unknown command: ${positionals.join(' ')}`)
      console.log(JSON.stringify(result))
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
