import type { Bundle, Resource } from '@medplum/fhirtypes'
import { expect } from 'vitest'
import type { TestTenant } from '../../setup/app.js'

/** Helpers of the `_contained` tests (contained*.int.test.ts): requests through the real app. */

export const BASE = 'http://fhir.test/fhir'

/** POSTs a resource; returns it as stored (with its id). */
export async function create<T extends Resource>(tenant: TestTenant, resource: T): Promise<T & { id: string }> {
  const res = await tenant.request('POST', `/${resource.resourceType}`, { body: resource })
  expect(res.statusCode, res.body).toBe(201)
  return res.json<T & { id: string }>()
}

/** GETs a search; expects 200 and returns the Bundle. */
export async function searchset(tenant: TestTenant, path: string): Promise<Bundle> {
  const res = await tenant.request('GET', path)
  expect(res.statusCode, `${path}: ${res.body}`).toBe(200)
  return res.json<Bundle>()
}

/** The entries' fullUrls, sorted (a set comparison). */
export const fullUrls = (bundle: Bundle): string[] => (bundle.entry ?? []).map((e) => e.fullUrl!).sort()

/** `[base]/Type/id` of a stored resource in `tenant`, optionally with `#contained`. */
export const urlOf = (tenant: TestTenant, r: { resourceType: string; id: string }, contained?: string): string =>
  `${BASE}/${tenant.tenantId}/${r.resourceType}/${r.id}${contained === undefined ? '' : `#${contained}`}`

/** A Bundle link as a path under the tenant base (for tenant.request). */
export function linkOf(tenant: TestTenant, bundle: Bundle, relation: string): string | undefined {
  const url = bundle.link?.find((l) => l.relation === relation)?.url
  if (!url) return undefined
  const u = new URL(url)
  return u.pathname.slice(`/fhir/${tenant.tenantId}`.length) + u.search
}

/** A contained Patient with a family name (and optional gender). */
export const containedPatient = (id: string, family: string, gender?: 'male' | 'female') => ({
  resourceType: 'Patient' as const,
  id,
  name: [{ family }],
  ...(gender ? { gender } : {}),
})

/**
 * Observations containing their subject Patient (and performer Practitioner): the R4 example of
 * search.html#contained. `#id` references keep each contained resource referenced (dom-3).
 */
export function observationWith(patient: Resource, options: { practitioner?: Resource; code?: string } = {}): Resource {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: options.code ?? '8867-4' }] },
    contained: [patient, ...(options.practitioner ? [options.practitioner] : [])],
    subject: { reference: `#${patient.id}` },
    ...(options.practitioner ? { performer: [{ reference: `#${options.practitioner.id}` }] } : {}),
  } as Resource
}
