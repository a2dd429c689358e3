import type { GrantStore } from '../resources/index.js'

/** How often an instance picks up revocations made by the others. */
export const REVOCATION_POLL_MS = 5_000
// Revocations committed slightly out of revoked_at order are still seen on the next poll.
const POLL_OVERLAP_MS = 10_000

/**
 * The deny-list of revoked access tokens (RFC 7009), by `tenant/jti`, held in memory so that
 * verifying a token stays free of I/O. A revocation in this process applies at once; others
 * arrive within REVOCATION_POLL_MS from the `revoked_token` table. Entries leave when the token
 * would have expired anyway, so the list stays as small as the live revocations.
 */
export class RevokedTokens {
  private readonly denied = new Map<string, number>()
  private lastSeen = new Date(0)

  constructor(
    private readonly store: GrantStore,
    private readonly clock: () => Date,
  ) {}

  isRevoked(tenantId: string, jti: string): boolean {
    const expiresAtMs = this.denied.get(`${tenantId}/${jti}`)
    if (expiresAtMs === undefined) return false
    if (expiresAtMs <= this.clock().getTime()) this.denied.delete(`${tenantId}/${jti}`)
    return true
  }

  async revoke(tenantId: string, jti: string, expiresAt: Date): Promise<void> {
    this.denied.set(`${tenantId}/${jti}`, expiresAt.getTime())
    await this.store.revokeAccessToken({ tenant_id: tenantId, jti, expires_at: expiresAt })
  }

  /** Loads revocations recorded since the last poll (all live ones the first time). */
  async refresh(): Promise<void> {
    const since = new Date(Math.max(0, this.lastSeen.getTime() - POLL_OVERLAP_MS))
    const rows = await this.store.listRevokedSince(since, this.clock())
    for (const row of rows) {
      this.denied.set(`${row.tenant_id}/${row.jti}`, new Date(row.expires_at).getTime())
      if (row.revoked_at > this.lastSeen) this.lastSeen = new Date(row.revoked_at)
    }
    const now = this.clock().getTime()
    for (const [key, expiresAtMs] of this.denied) if (expiresAtMs <= now) this.denied.delete(key)
  }
}
