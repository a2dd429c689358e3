import { Ajv, type JSONSchemaType } from 'ajv'

/** Typed, validated configuration. Only src/main.ts and src/cli.ts read the environment. */
export interface Config {
  /** PostgreSQL URL; absent → embedded PGlite under dataDir. */
  databaseUrl?: string
  dataDir: string
  host: string
  port: number
  /** Public base URL used in Location headers and Bundle links, e.g. https://fhir.example.org */
  baseUrl: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Maximum request body in bytes (larger → 413). */
  bodyLimit: number
  /** Maximum JSON nesting depth of a request body (deeper → 400). */
  maxJsonDepth: number
  /** Access-token lifetime in seconds. */
  tokenTtlSeconds: number
  dbPoolSize: number
  bootstrapTenant?: string
  bootstrapClientId?: string
  bootstrapClientSecret?: string
}

const schema: JSONSchemaType<Config> = {
  type: 'object',
  properties: {
    databaseUrl: { type: 'string', nullable: true, pattern: '^postgres(ql)?://' },
    dataDir: { type: 'string', minLength: 1 },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    baseUrl: { type: 'string', pattern: '^https?://[^/]+(/.*[^/])?$' },
    logLevel: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    bodyLimit: { type: 'integer', minimum: 1024 },
    maxJsonDepth: { type: 'integer', minimum: 4, maximum: 1000 },
    tokenTtlSeconds: { type: 'integer', minimum: 30, maximum: 86400 },
    dbPoolSize: { type: 'integer', minimum: 1, maximum: 200 },
    bootstrapTenant: { type: 'string', nullable: true, pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    bootstrapClientId: { type: 'string', nullable: true, minLength: 1 },
    bootstrapClientSecret: { type: 'string', nullable: true, minLength: 16 },
  },
  required: ['dataDir', 'host', 'port', 'baseUrl', 'logLevel', 'bodyLimit', 'maxJsonDepth', 'tokenTtlSeconds', 'dbPoolSize'],
  additionalProperties: false,
}

/** Which environment variable feeds which setting (also the list .env.example documents). */
const ENV: Record<keyof Config, string> = {
  databaseUrl: 'DATABASE_URL',
  dataDir: 'DATA_DIR',
  host: 'HOST',
  port: 'PORT',
  baseUrl: 'BASE_URL',
  logLevel: 'LOG_LEVEL',
  bodyLimit: 'BODY_LIMIT',
  maxJsonDepth: 'MAX_JSON_DEPTH',
  tokenTtlSeconds: 'TOKEN_TTL_SECONDS',
  dbPoolSize: 'DB_POOL_SIZE',
  bootstrapTenant: 'BOOTSTRAP_TENANT',
  bootstrapClientId: 'BOOTSTRAP_CLIENT_ID',
  bootstrapClientSecret: 'BOOTSTRAP_CLIENT_SECRET',
}

const INTEGER_KEYS = new Set<keyof Config>(['port', 'bodyLimit', 'maxJsonDepth', 'tokenTtlSeconds', 'dbPoolSize'])

export class ConfigError extends Error {}

const validate = new Ajv({ allErrors: false }).compile(schema)

/** Builds the Config from an environment; throws ConfigError with one line naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const raw: Record<string, unknown> = {}
  for (const [key, name] of Object.entries(ENV) as [keyof Config, string][]) {
    const value = env[name]
    if (value === undefined || value === '') continue
    if (INTEGER_KEYS.has(key)) {
      if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`)
      raw[key] = Number(value)
    } else raw[key] = value
  }
  const port = (raw.port as number | undefined) ?? 8080
  const config = {
    dataDir: './data',
    host: '0.0.0.0',
    port,
    baseUrl: `http://localhost:${port}`,
    logLevel: 'info',
    bodyLimit: 16 * 1024 * 1024,
    maxJsonDepth: 64,
    tokenTtlSeconds: 3600,
    dbPoolSize: 10,
    ...raw,
  }
  if (!validate(config)) {
    const err = validate.errors?.[0]
    const key = (err?.instancePath.slice(1) || (err?.params as { missingProperty?: string })?.missingProperty || '') as keyof Config
    throw new ConfigError(`${ENV[key] ?? key} is invalid: ${err?.message ?? 'bad value'} (got "${env[ENV[key]] ?? ''}")`)
  }
  const c = config as Config
  const bootstrap = [c.bootstrapTenant, c.bootstrapClientId, c.bootstrapClientSecret].filter((v) => v !== undefined).length
  if (bootstrap !== 0 && bootstrap !== 3) {
    throw new ConfigError('BOOTSTRAP_TENANT, BOOTSTRAP_CLIENT_ID and BOOTSTRAP_CLIENT_SECRET must be set together')
  }
  return c
}

export const CONFIG_ENV_NAMES: Readonly<Record<keyof Config, string>> = ENV
