import type { Resource } from '@medplum/fhirtypes'
import { conflict, preconditionFailed, type FhirError } from '../errors.js'
import type { StoredResource } from './types.js'

/**
 * Version rules (https://hl7.org/fhir/R4/http.html#versioning): versionId is a per-resource
 * counter, lastUpdated strictly increases per resource even if clocks stall.
 */
export function nextLastUpdated(now: Date, previous?: Date): Date {
  if (previous && now.getTime() <= previous.getTime()) return new Date(previous.getTime() + 1)
  return now
}

/** Stamps server-owned meta, keeping what the client may set (profile, tag, security, source). */
export function stampMeta<T extends Resource>(resource: T, id: string, versionId: number, lastUpdated: Date): T {
  const { meta, id: _ignored, resourceType, ...rest } = resource as Resource & Record<string, unknown>
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {}
  return {
    resourceType,
    id,
    meta: { ...keptMeta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() },
    ...rest,
  } as unknown as T
}

/** Throws 412 when the client's expected version is not the current one. */
export function checkIfMatch(ifMatch: string | undefined, currentVersionId: number | undefined, ref: string): void {
  if (ifMatch === undefined) return
  if (currentVersionId === undefined) {
    throw preconditionFailed(`If-Match version ${ifMatch} given, but ${ref} does not exist`, 'MSG_VERSION_AWARE_CONFLICT')
  }
  if (ifMatch !== String(currentVersionId)) {
    throw preconditionFailed(
      `Version conflict on ${ref}: If-Match asked for version ${ifMatch}, the current version is ${currentVersionId}; read it again and retry`,
      'MSG_VERSION_AWARE_CONFLICT',
    )
  }
}

/** The stored form of a live version just written (what a write answers with). */
export function storedVersion(resourceType: string, id: string, versionId: number, lastUpdated: Date, json: string): StoredResource {
  return { resourceType, id, versionId: String(versionId), lastUpdated: lastUpdated.toISOString(), deleted: false, json }
}

/** A create whose id already exists (a concurrent writer, or a client id): 409. */
export function idTaken(ref: string): FhirError {
  return conflict(`Id ${ref} is taken; a create needs a new id`)
}
