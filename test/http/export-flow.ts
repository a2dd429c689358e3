import type { LightMyRequestResponse } from 'fastify'
import type { Resource } from '@medplum/fhirtypes'
import { expect } from 'vitest'
import type { TestApp, TestTenant } from '../setup/app.js'

/** The Bulk Data completion manifest (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status). */
export interface Manifest {
  transactionTime: string
  request: string
  requiresAccessToken: boolean
  output: { type: string; url: string; count: number }[]
  error: unknown[]
}

export const ASYNC = { prefer: 'respond-async', accept: 'application/fhir+json' }

/** Kicks off an export and returns the status path under the tenant's base (`/$job/<id>`). */
export async function kickOff(tenant: TestTenant, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<string> {
  const res = await tenant.request(options.body ? 'POST' : 'GET', path, { body: options.body, headers: { ...ASYNC, ...options.headers } })
  expect(res.statusCode, res.body).toBe(202)
  const location = String(res.headers['content-location'])
  expect(location).toMatch(new RegExp(`^http://fhir\\.test/fhir/${tenant.tenantId}/\\$job/[0-9a-f-]{36}$`))
  return relative(tenant, location)
}

/** A URL on the test server as a path under the tenant's base. */
export const relative = (tenant: TestTenant, url: string) => url.slice(`http://fhir.test/fhir/${tenant.tenantId}`.length)

/** Polls until the job leaves 202 (the test app allows polls at any rate) and returns the answer. */
export async function settle(t: TestApp, tenant: TestTenant, statusPath: string): Promise<LightMyRequestResponse> {
  await t.services.jobs.settled(statusPath.split('/')[2]!)
  for (let i = 0; i < 200; i++) {
    const res = await tenant.request('GET', statusPath)
    if (res.statusCode !== 202) return res
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`job ${statusPath} did not finish`)
}

/** Runs an export to completion and returns its manifest. */
export async function exportAll(t: TestApp, tenant: TestTenant, path: string, options: { body?: unknown } = {}): Promise<Manifest> {
  const res = await settle(t, tenant, await kickOff(tenant, path, options))
  expect(res.statusCode, res.body).toBe(200)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  return res.json<Manifest>()
}

/** Downloads every output file; returns the resources by type. */
export async function download(tenant: TestTenant, manifest: Manifest): Promise<Map<string, Resource[]>> {
  const byType = new Map<string, Resource[]>()
  for (const file of manifest.output) {
    const res = await tenant.request('GET', relative(tenant, file.url), { headers: { accept: 'application/fhir+ndjson' } })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/)
    const lines = res.body.split('\n')
    expect(lines.pop()).toBe('')
    const resources = lines.map((l) => JSON.parse(l) as Resource)
    expect(resources.length).toBe(file.count)
    byType.set(file.type, [...(byType.get(file.type) ?? []), ...resources])
  }
  return byType
}

/** Sorted ids of the exported resources of a type. */
export const idsOf = (files: Map<string, Resource[]>, type: string) => (files.get(type) ?? []).map((r) => r.id!).sort()
