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
  /** Maximum entries in one batch or transaction Bundle (more → 413). */
  maxBundleEntries: number
  /** Access-token lifetime in seconds. */
  tokenTtlSeconds: number
  dbPoolSize: number
  bootstrapTenant?: string
  bootstrapClientId?: string
  bootstrapClientSecret?: string
  /** development (default), test or production: production refuses weak secrets at start. */
  environment: 'development' | 'test' | 'production'
  /** Signs sign-in cookies and CSRF tokens, peppers one-time codes (32+ characters in production). */
  authSecret?: string
  /** A super admin account created in BOOTSTRAP_TENANT at start when absent. */
  bootstrapAdminEmail?: string
  bootstrapAdminPassword?: string
  /** Twilio (WhatsApp and SMS one-time codes); without it codes go to the log. */
  twilioAccountSid?: string
  twilioAuthToken?: string
  twilioSmsFrom?: string
  twilioWhatsappFrom?: string
  twilioApiUrl?: string
  /** Gmail API (email); without it messages go to the log. */
  gmailClientId?: string
  gmailClientSecret?: string
  gmailRefreshToken?: string
  gmailSender?: string
  gmailApiUrl?: string
  gmailTokenUrl?: string
  /** Browser origins allowed to call the FHIR API and token endpoints (comma-separated, or `*`); discovery answers any origin. */
  corsOrigins?: string
  /** One-time codes sent at most this many times per account and per phone number per hour (more: 429). */
  otpSendsPerHour: number
  /** AuditEvents of refused FHIR requests (401/403) written per client or address per minute; the rest are counted. */
  auditRefusalsPerMinute: number
  /** Where bulk files ($export output, $import input) live; default `${dataDir}/bulk`. */
  bulkDir: string
  /** Status polls of an async job closer together than this answer 429 (milliseconds). */
  jobMinPollMs: number
  /** Async jobs ($export, $import...) one process runs at once; more wait their turn. */
  jobConcurrency: number
  /** How long a tenant SearchParameter written by another server instance may go unseen here (milliseconds). */
  searchParamRefreshMs: number
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
    maxBundleEntries: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    tokenTtlSeconds: { type: 'integer', minimum: 30, maximum: 86400 },
    dbPoolSize: { type: 'integer', minimum: 1, maximum: 200 },
    bootstrapTenant: { type: 'string', nullable: true, pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    bootstrapClientId: { type: 'string', nullable: true, minLength: 1 },
    bootstrapClientSecret: { type: 'string', nullable: true, minLength: 16 },
    environment: { type: 'string', enum: ['development', 'test', 'production'] },
    authSecret: { type: 'string', nullable: true, minLength: 1 },
    bootstrapAdminEmail: { type: 'string', nullable: true, pattern: '^[^\\s@]+@[^\\s@]+$' },
    bootstrapAdminPassword: { type: 'string', nullable: true, minLength: 10 },
    twilioAccountSid: { type: 'string', nullable: true, minLength: 1 },
    twilioAuthToken: { type: 'string', nullable: true, minLength: 1 },
    twilioSmsFrom: { type: 'string', nullable: true, pattern: '^\\+\\d{8,15}$' },
    twilioWhatsappFrom: { type: 'string', nullable: true, pattern: '^\\+\\d{8,15}$' },
    twilioApiUrl: { type: 'string', nullable: true, pattern: '^https?://' },
    gmailClientId: { type: 'string', nullable: true, minLength: 1 },
    gmailClientSecret: { type: 'string', nullable: true, minLength: 1 },
    gmailRefreshToken: { type: 'string', nullable: true, minLength: 1 },
    gmailSender: { type: 'string', nullable: true, minLength: 3 },
    gmailApiUrl: { type: 'string', nullable: true, pattern: '^https?://' },
    gmailTokenUrl: { type: 'string', nullable: true, pattern: '^https?://' },
    corsOrigins: { type: 'string', nullable: true, pattern: '^\\s*(\\*|https?://[^/,\\s]+)\\s*(,\\s*(\\*|https?://[^/,\\s]+)\\s*)*$' },
    otpSendsPerHour: { type: 'integer', minimum: 1, maximum: 1000 },
    auditRefusalsPerMinute: { type: 'integer', minimum: 1, maximum: 100000 },
    bulkDir: { type: 'string', minLength: 1 },
    jobMinPollMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    jobConcurrency: { type: 'integer', minimum: 1, maximum: 64 },
    searchParamRefreshMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
  },
  required: ['bulkDir', 'jobMinPollMs', 'jobConcurrency', 'searchParamRefreshMs', 'dataDir', 'host', 'port', 'baseUrl', 'logLevel', 'bodyLimit', 'maxJsonDepth', 'maxBundleEntries', 'tokenTtlSeconds', 'dbPoolSize', 'environment', 'otpSendsPerHour', 'auditRefusalsPerMinute'],
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
  maxBundleEntries: 'MAX_BUNDLE_ENTRIES',
  tokenTtlSeconds: 'TOKEN_TTL_SECONDS',
  dbPoolSize: 'DB_POOL_SIZE',
  bootstrapTenant: 'BOOTSTRAP_TENANT',
  bootstrapClientId: 'BOOTSTRAP_CLIENT_ID',
  bootstrapClientSecret: 'BOOTSTRAP_CLIENT_SECRET',
  environment: 'NODE_ENV',
  authSecret: 'AUTH_SECRET',
  bootstrapAdminEmail: 'BOOTSTRAP_ADMIN_EMAIL',
  bootstrapAdminPassword: 'BOOTSTRAP_ADMIN_PASSWORD',
  twilioAccountSid: 'TWILIO_ACCOUNT_SID',
  twilioAuthToken: 'TWILIO_AUTH_TOKEN',
  twilioSmsFrom: 'TWILIO_SMS_FROM',
  twilioWhatsappFrom: 'TWILIO_WHATSAPP_FROM',
  twilioApiUrl: 'TWILIO_API_URL',
  gmailClientId: 'GMAIL_CLIENT_ID',
  gmailClientSecret: 'GMAIL_CLIENT_SECRET',
  gmailRefreshToken: 'GMAIL_REFRESH_TOKEN',
  gmailSender: 'GMAIL_SENDER',
  gmailApiUrl: 'GMAIL_API_URL',
  gmailTokenUrl: 'GMAIL_TOKEN_URL',
  corsOrigins: 'CORS_ORIGINS',
  otpSendsPerHour: 'OTP_SENDS_PER_HOUR',
  auditRefusalsPerMinute: 'AUDIT_REFUSALS_PER_MINUTE',
  bulkDir: 'BULK_DIR',
  jobMinPollMs: 'JOB_MIN_POLL_MS',
  jobConcurrency: 'JOB_CONCURRENCY',
  searchParamRefreshMs: 'SEARCH_PARAM_REFRESH_MS',
}

const INTEGER_KEYS = new Set<keyof Config>(['port', 'bodyLimit', 'maxJsonDepth', 'maxBundleEntries', 'tokenTtlSeconds', 'dbPoolSize', 'jobMinPollMs', 'jobConcurrency', 'searchParamRefreshMs', 'otpSendsPerHour', 'auditRefusalsPerMinute'])

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
    maxBundleEntries: 10_000,
    tokenTtlSeconds: 3600,
    dbPoolSize: 10,
    environment: 'development',
    otpSendsPerHour: 5,
    auditRefusalsPerMinute: 20,
    jobMinPollMs: 1000,
    jobConcurrency: 2,
    searchParamRefreshMs: 1000,
    ...raw,
    bulkDir: (raw.bulkDir as string | undefined) ?? `${(raw.dataDir as string | undefined) ?? './data'}/bulk`,
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
  if ((c.bootstrapAdminEmail === undefined) !== (c.bootstrapAdminPassword === undefined) || (c.bootstrapAdminEmail && !c.bootstrapTenant)) {
    throw new ConfigError('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD must be set together, with BOOTSTRAP_TENANT')
  }
  if (c.environment === 'production') checkProductionSecrets(c)
  return c
}

/** Secrets shipped in examples and docs, refused in production. */
const KNOWN_DEFAULTS = new Set(['change-me-to-a-long-secret', 'change-me', 'changeme', 'admin', 'password', 'admin1234567', 'segimed-admin', 'change-me-admin-password'])
export const MIN_PRODUCTION_SECRET_LENGTH = 32

/** Production refuses to start with a missing or short signing secret or a default password. */
function checkProductionSecrets(c: Config): void {
  if (!c.authSecret || c.authSecret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    throw new ConfigError(`AUTH_SECRET must be set to at least ${MIN_PRODUCTION_SECRET_LENGTH} random characters in production`)
  }
  if (KNOWN_DEFAULTS.has(c.authSecret)) throw new ConfigError('AUTH_SECRET is a published default; set a random one')
  if (c.bootstrapAdminPassword !== undefined && (KNOWN_DEFAULTS.has(c.bootstrapAdminPassword) || c.bootstrapAdminPassword.length < 12)) {
    throw new ConfigError('BOOTSTRAP_ADMIN_PASSWORD is a default or shorter than 12 characters; production refuses it')
  }
  if (c.bootstrapClientSecret !== undefined && KNOWN_DEFAULTS.has(c.bootstrapClientSecret)) {
    throw new ConfigError('BOOTSTRAP_CLIENT_SECRET is a published default; production refuses it')
  }
}

export const CONFIG_ENV_NAMES: Readonly<Record<keyof Config, string>> = ENV
