import type { Resource } from '@medplum/fhirtypes'

/**
 * Whether a resource about to be written says the same as the stored version: equal JSON values
 * (key order ignored), not counting `id` and the server-owned `meta.versionId` / `meta.lastUpdated`.
 * The import rule uses it so a re-import writes no new version (README "Bulk import").
 */
export function sameContent(storedJson: string, next: Resource): boolean {
  return deepEqual(withoutServerFields(JSON.parse(storedJson) as Record<string, unknown>), withoutServerFields(next as unknown as Record<string, unknown>))
}

function withoutServerFields(resource: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, meta, ...rest } = resource
  if (typeof meta !== 'object' || meta === null) return rest
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta as Record<string, unknown>
  return Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}
