import { notFound } from '../errors.js'
import { isResourceType } from '../resources/index.js'

/** The URL's resource type, or 404 for anything that is not an R4 resource type. */
export function knownType(type: string): string {
  if (!isResourceType(type)) {
    throw notFound(`Resource type '${type.slice(0, 64)}' is not a FHIR R4 resource type supported here`, 'MSG_UNKNOWN_TYPE')
  }
  return type
}
