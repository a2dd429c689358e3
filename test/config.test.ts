import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

describe('loadConfig', () => {
  it('uses embedded defaults when the environment is empty', () => {
    const c = loadConfig({})
    expect(c.databaseUrl).toBeUndefined()
    expect(c.dataDir).toBe('./data')
    expect(c.port).toBe(8080)
    expect(c.baseUrl).toBe('http://localhost:8080')
  })

  it('names PORT when it is not a number', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrowError(new ConfigError('PORT must be a whole number, got "eighty"'))
  })

  it('names DATABASE_URL when it is not a postgres URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL is invalid/)
  })

  it('names LOG_LEVEL when it is not a known level', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL is invalid: must be equal to one of the allowed values/)
  })

  it('refuses a BASE_URL with a trailing slash', () => {
    expect(() => loadConfig({ BASE_URL: 'http://x.org/' })).toThrow(/^BASE_URL is invalid/)
  })

  it('requires the three BOOTSTRAP_ settings together', () => {
    expect(() => loadConfig({ BOOTSTRAP_TENANT: 'demo' })).toThrow(/must be set together/)
  })

  it('accepts a complete bootstrap with a long secret', () => {
    const c = loadConfig({ BOOTSTRAP_TENANT: 'demo', BOOTSTRAP_CLIENT_ID: 'c', BOOTSTRAP_CLIENT_SECRET: 'sixteen-chars-ok' })
    expect(c.bootstrapTenant).toBe('demo')
  })
})
