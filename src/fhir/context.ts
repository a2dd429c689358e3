import type { FastifyRequest } from 'fastify'
import type { AuthContext } from '../auth/index.js'
import type { RequestScope, Tenant } from '../resources/index.js'
import { FhirError } from '../errors.js'

/** What every FHIR handler knows about its request. */
export interface RequestContext {
  readonly tenant: Tenant
  readonly scope: RequestScope
  /** Absent only on public routes (metadata, smart-configuration). */
  readonly auth?: AuthContext
  /** `[server]/fhir/{tenant}`, for Location headers, fullUrls and links. */
  readonly baseUrl: string
  /** Media type chosen by content negotiation. */
  readonly responseType: string
}

declare module 'fastify' {
  interface FastifyRequest {
    fhir: RequestContext | null
  }
}

/** The context of a FHIR request; the onRequest hook guarantees it on every FHIR route. */
export function fhirContext(request: FastifyRequest): RequestContext {
  if (!request.fhir) throw new FhirError('internal', 'FHIR request context missing')
  return request.fhir
}

export function authOf(request: FastifyRequest): AuthContext {
  const auth = fhirContext(request).auth
  if (!auth) throw new FhirError('internal', 'authenticated route without an auth context')
  return auth
}
