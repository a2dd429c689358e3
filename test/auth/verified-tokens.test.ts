import { describe, expect, it } from 'vitest'
import { MAX_CACHED_TOKENS, VerifiedTokens } from '../../src/auth/verified-tokens.js'

describe('VerifiedTokens', () => {
  const exp = Date.UTC(2030, 0, 1) / 1000

  it('returns a remembered payload until the token expires', () => {
    const cache = new VerifiedTokens()
    cache.remember('t1', { exp, scope: 'system/*.*' })
    expect(cache.get('t1', new Date((exp - 1) * 1000))).toMatchObject({ scope: 'system/*.*' })
    expect(cache.get('t1', new Date(exp * 1000))).toBeUndefined()
  })

  it('does not remember a payload without exp', () => {
    const cache = new VerifiedTokens()
    cache.remember('t1', { scope: 'x' })
    expect(cache.get('t1', new Date(0))).toBeUndefined()
  })

  it('drops the oldest token when full', () => {
    const cache = new VerifiedTokens()
    for (let i = 0; i <= MAX_CACHED_TOKENS; i++) cache.remember(`t${i}`, { exp })
    expect(cache.get('t0', new Date(0))).toBeUndefined()
    expect(cache.get(`t${MAX_CACHED_TOKENS}`, new Date(0))).toMatchObject({ exp })
  })

  it('returns the remembered context for its own tenant only, until the token expires or is forgotten', () => {
    const cache = new VerifiedTokens()
    const context = { tenantId: 'acme', clientId: 'c1', scope: 'system/*.*', scopes: [], jti: 'j1' }
    cache.remember('t1', { exp })
    cache.rememberContext('t1', context)
    expect(cache.context('t1', 'acme', new Date((exp - 1) * 1000))).toBe(context)
    expect(cache.context('t1', 'other', new Date((exp - 1) * 1000))).toBeUndefined()
    expect(cache.context('t1', 'acme', new Date(exp * 1000))).toBeUndefined()
    cache.remember('t2', { exp })
    cache.rememberContext('t2', context)
    cache.forget('t2')
    expect(cache.context('t2', 'acme', new Date(0))).toBeUndefined()
  })

  it('keeps no context for a token it does not remember', () => {
    const cache = new VerifiedTokens()
    cache.rememberContext('t1', { tenantId: 'acme', clientId: 'c1', scope: '', scopes: [] })
    expect(cache.context('t1', 'acme', new Date(0))).toBeUndefined()
  })
})
