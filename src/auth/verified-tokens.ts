import type { JWTPayload } from 'jose'

/** Most tokens a process remembers as verified; the oldest are dropped first. */
export const MAX_CACHED_TOKENS = 10_000

/**
 * Tokens already verified, until they expire. An ES256 verification costs ~0.25 ms here, about
 * as much as a whole database read, and a client sends the same token many times. Only
 * successful verifications are kept. (Revocation, when it lands, must call `forget`.)
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { payload: JWTPayload; expiresAtMs: number }>()

  get(token: string, now: Date): JWTPayload | undefined {
    const hit = this.entries.get(token)
    if (!hit) return undefined
    if (hit.expiresAtMs <= now.getTime()) {
      this.entries.delete(token)
      return undefined
    }
    return hit.payload
  }

  remember(token: string, payload: JWTPayload): void {
    if (typeof payload.exp !== 'number') return
    if (this.entries.size >= MAX_CACHED_TOKENS) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(token, { payload, expiresAtMs: payload.exp * 1000 })
  }

  forget(token: string): void {
    this.entries.delete(token)
  }
}
