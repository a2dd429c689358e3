import type { Resource } from '@medplum/fhirtypes'
import { unprocessable } from '../../errors.js'
import { isJsonObject } from './locate.js'

/**
 * A patch edits one resource; it may not turn it into another. http.html#patch leaves the
 * resource's identity to the URL, so a changed `resourceType` or `id` is refused.
 */
export function assertIdentityKept(before: Resource, after: unknown, label: string): asserts after is Resource {
  if (!isJsonObject(after)) throw unprocessable(`${label} result is not a resource`)
  if (after['resourceType'] !== before.resourceType) {
    throw unprocessable(`${label} must not change resourceType (${before.resourceType} to ${String(after['resourceType'])})`)
  }
  if (after['id'] !== before.id) {
    throw unprocessable(`${label} must not change id (${String(before.id)} to ${String(after['id'])})`)
  }
}
