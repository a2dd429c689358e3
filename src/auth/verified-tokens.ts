import type { JWTPayload } from 'jose'
import type { AuthContext } from './access.js'

/** Most tokens a process remembers as verified; the oldest are dropped first. */
export const MAX_CACHED_TOKENS = 10_000

interface Entry {
  payload: JWTPayload
  expiresAtMs: number
  /** The context built for the token's own tenant (the only one it is good for), once built. */
  context?: AuthContext
}

/**
 * Tokens already verified, until they expire. An ES256 verification costs ~0.25 ms here, about
 * as much as a whole database read, and a client sends the same token many times. Only
 * successful verifications are kept, with the AuthContext built from them so that a repeat
 * request does not parse the scopes again. Revocation is not decided here: the caller checks
 * the deny-list on every hit, and `forget` drops a token outright.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>()

  get(token: string, now: Date): JWTPayload | undefined {
    return this.live(token, now)?.payload
  }

  /** The context remembered for `token` on `tenantId`, while the token has not expired. */
  context(token: string, tenantId: string, now: Date): AuthContext | undefined {
    const context = this.live(token, now)?.context
    return context?.tenantId === tenantId ? context : undefined
  }

  remember(token: string, payload: JWTPayload): void {
    if (typeof payload.exp !== 'number') return
    if (this.entries.size >= MAX_CACHED_TOKENS) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(token, { payload, expiresAtMs: payload.exp * 1000 })
  }

  /** Keeps the context built from a remembered token (ignored when the token is not remembered). */
  rememberContext(token: string, context: AuthContext): void {
    const entry = this.entries.get(token)
    if (entry) entry.context = context
  }

  forget(token: string): void {
    this.entries.delete(token)
  }

  private live(token: string, now: Date): Entry | undefined {
    const hit = this.entries.get(token)
    if (!hit) return undefined
    if (hit.expiresAtMs <= now.getTime()) {
      this.entries.delete(token)
      return undefined
    }
    return hit
  }
}
