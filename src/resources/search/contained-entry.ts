import type { Resource } from '@medplum/fhirtypes'
import { toStored } from '../resource-store.js'
import type { StoredResource } from '../types.js'
import type { PageRow } from './compile.js'

/**
 * A contained match returned as itself (`_containedType=contained`,
 * https://hl7.org/fhir/R4/search.html#contained): the contained resource as it stands in its
 * container, with the container's type, version and lastUpdated, and the id
 * `<container id>#<contained id>`. The Bundle's fullUrl (`[base]/[type]/[id]`) is then the container's
 * URL plus `#<contained id>` — the way FHIR names a contained resource in its container (a local
 * reference `#id` resolved against the container, references.html#contained); the contained
 * resource has no URL of its own, and its bare id is unique only within its container, so a fullUrl
 * of its own type would name a resource that does not exist. The entry's resource keeps its own
 * `resourceType` and `id`, as written.
 */
export function containedEntry(row: PageRow): StoredResource {
  const container = JSON.parse(row.content) as { contained?: Resource[] }
  const contained = container.contained?.[row.ord!]
  const id = row.id.slice(row.id.indexOf('#') + 1)
  // The index rows were written with this content in one statement: a mismatch is a bug, not data.
  if (!contained || contained.id !== id) throw new Error(`contained resource #${id} not found at ${row.ord} in ${row.resource_type}/${row.id}`)
  return toStored(row.resource_type, row.id, { ...row, deleted: false, content: JSON.stringify(contained) })
}
