import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** Error paths of the RESTful API — https://hl7.org/fhir/R4/http.html#general, #mime-type; STYLE.md "Error handling" */
let t: TestApp
let small: TestApp
beforeAll(async () => {
  ;[t, small] = await Promise.all([buildTestApp(), buildTestApp({ BODY_LIMIT: '2048' })])
})
afterAll(async () => {
  await Promise.all([t.close(), small.close()])
})


describe('request bodies', () => {
  it('returns 400 "structure" for malformed JSON', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: '{"resourceType": "Patient",' })
    expectOutcome(res, { status: 400, code: 'structure', diagnostics: /not valid JSON/ })
  })

  it('returns 400 naming the limit when JSON nesting is one level past MAX_JSON_DEPTH (64)', async () => {
    const tenant = await t.newTenant()
    const body = `{"resourceType":"Patient","extension":${'['.repeat(64)}${']'.repeat(64)}}`
    expectOutcome(await tenant.request('POST', '/Patient', { body }), { status: 400, code: 'structure', diagnostics: /nested 65 levels deep; the limit is 64/ })
  })

  it('returns 400, not a crash, for 200,000 nested brackets', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('POST', '/Patient', { body: '['.repeat(200_000) }), { status: 400, code: 'structure' })
  })

  it('returns 413 for a body over BODY_LIMIT', async () => {
    const tenant = await small.newTenant()
    const body = makePatient({ name: [{ family: 'x'.repeat(3000) }] })
    expectOutcome(await tenant.request('POST', '/Patient', { body }), { status: 413, code: 'too-costly' })
  })

  it('accepts a body under BODY_LIMIT on the same server', async () => {
    const tenant = await small.newTenant()
    expect((await tenant.request('POST', '/Patient', { body: makePatient() })).statusCode).toBe(201)
  })

  it('returns 400 for a __proto__ key and stores nothing', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: '{"resourceType":"Patient","__proto__":{"isAdmin":true}}' })
    expectOutcome(res, { status: 400, code: 'structure', diagnostics: /__proto__/ })
    expect(resourceOf<Bundle>(await tenant.request('GET', '/Patient')).total).toBe(0)
  })

  it('returns 400 for a constructor.prototype key, also when spelled with \\u escapes', async () => {
    const tenant = await t.newTenant()
    const body = '{"resourceType":"Patient","\\u0063onstructor":{"prototype":{"isAdmin":true}}}'
    expectOutcome(await tenant.request('POST', '/Patient', { body }), { status: 400, code: 'structure', diagnostics: /constructor/ })
  })

  it('returns 400 "required" for a POST with an empty body', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('POST', '/Patient', { body: '', headers: { 'content-type': 'application/fhir+json' } }), { status: 400, code: 'required' })
  })

  it('returns 400 with MSG_RESOURCE_TYPE_MISMATCH when the body resourceType is not the URL type', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Observation', { body: makePatient() })
    expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_TYPE_MISMATCH', diagnostics: /^Body resourceType 'Patient' does not match: the URL's type is 'Observation'$/ })
    const { resourceType: _, ...untyped } = makePatient()
    const missing = await tenant.request('POST', '/Patient', { body: untyped })
    expectOutcome(missing, { status: 400, code: 'invalid', messageId: 'MSG_RESOURCE_TYPE_MISMATCH', diagnostics: /^The body has no resourceType: the URL's type is 'Patient'$/ })
    const inBatch = await tenant.request('POST', '', { body: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: untyped, request: { method: 'POST', url: 'Patient' } }] } })
    expect(inBatch.statusCode).toBe(200)
    expect(inBatch.json().entry[0].response.outcome.issue[0].diagnostics).toBe("entry.resource has no resourceType: the entry url's type is 'Patient'")
  })
})

describe('validation failures', () => {
  const cases = [
    { title: 'Patient.birthDate is not a date', type: 'Patient', body: makePatient({ birthDate: '1970-02-30x' }), expression: 'Patient.birthDate', code: 'structure' },
    { title: 'Patient.gender is outside its required ValueSet', type: 'Patient', body: makePatient({ gender: 'f' as never }), expression: 'Patient.gender', code: 'code-invalid' },
    { title: 'Observation.status is outside its required ValueSet', type: 'Observation', body: makeObservation({ status: 'done' as never }), expression: 'Observation.status', code: 'code-invalid' },
  ] as const
  for (const c of cases) {
    it(`returns 400 with expression ${c.expression} when ${c.title}`, async () => {
      const tenant = await t.newTenant()
      const outcome = expectOutcome(await tenant.request('POST', `/${c.type}`, { body: c.body }), { status: 400, code: c.code })
      expect(outcome.issue?.[0]?.expression).toEqual([c.expression])
      expect(outcome.issue?.[0]?.diagnostics).toContain(c.expression)
    })
  }

  it('returns one issue per problem, each with its own expression', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient({ gender: 'f' as never, birthDate: 'soon' }) })
    const outcome = expectOutcome(res, { status: 400, code: /^(structure|code-invalid)$/ })
    const expressions = (outcome.issue ?? []).flatMap((i) => i.expression ?? [])
    expect(expressions).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate']))
  })

  it('returns 400 when a required element is missing (Observation.code)', async () => {
    const tenant = await t.newTenant()
    const { code: _code, ...body } = makeObservation()
    const outcome = expectOutcome(await tenant.request('POST', '/Observation', { body }), { status: 400, code: /^(required|structure)$/ })
    expect(outcome.issue?.[0]?.expression).toEqual(['Observation.code'])
  })

  it('returns 400 for U+0000 in a code or uri (PostgreSQL cannot store it) and stores nothing', async () => {
    const tenant = await t.newTenant()
    const body = makeObservation({ valueQuantity: { value: 5, system: 'http://unitsofmeasure.org', code: 'm\u0000g' } })
    const outcome = expectOutcome(await tenant.request('POST', '/Observation', { body }), { status: 400, code: 'structure', diagnostics: /U\+0000/ })
    expect(outcome.issue?.[0]?.expression).toEqual(['Observation.valueQuantity.code'])
    const tagged = { ...makePatient(), meta: { tag: [{ system: 'http://x\u0000', code: 'a' }] } }
    expectOutcome(await tenant.request('PUT', '/Patient/nul-1', { body: { ...tagged, id: 'nul-1' } }), { status: 400, code: 'structure' })
    expect((await tenant.request('GET', '/Observation?_summary=count')).json().total).toBe(0)
    expect((await tenant.request('GET', '/Patient/nul-1')).statusCode).toBe(404)
  })

  it('accepts [] and {} where a string or an array belongs, as absent, and indexes the rest (no 500)', async () => {
    const tenant = await t.newTenant()
    const body = makeObservation({ valueQuantity: { value: 72, unit: 'kg', system: 'http://unitsofmeasure.org', code: [] as never }, category: [{ coding: {} as never, text: 'Vital' }] })
    const created = await tenant.request('POST', '/Observation', { body })
    expect(created.statusCode, created.body).toBe(201)
    const id = resourceOf(created).id
    for (const query of ['value-quantity=72', 'category:text=vital']) {
      const found = (await tenant.request('GET', `/Observation?${query}`)).json<Bundle>()
      expect(found.entry?.map((e) => e.resource?.id), query).toEqual([id])
    }
  })
})

describe('ids', () => {
  it('returns 400 with MSG_ID_INVALID for an SQL-looking id on read, update, patch and delete, and the data is still there', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const evil = `/Patient/${encodeURIComponent("1';drop table resource;--")}`
    const replies = [
      await tenant.request('GET', evil),
      await tenant.request('PUT', evil, { body: makePatient({ id: "1';drop table resource;--" }) }),
      await tenant.request('PATCH', evil, { body: [], headers: { 'content-type': 'application/json-patch+json' } }),
      await tenant.request('DELETE', evil),
      await tenant.request('GET', `${evil}/_history`),
    ]
    for (const res of replies) expectOutcome(res, { status: 400, code: 'invalid', messageId: 'MSG_ID_INVALID' })
    expect(resourceOf(await tenant.request('GET', `/Patient/${patient.id}`))).toEqual(patient)
  })

  it('returns 400 with MSG_ID_INVALID for a 65-character id', async () => {
    const tenant = await t.newTenant()
    const id = 'a'.repeat(65)
    expectOutcome(await tenant.request('PUT', `/Patient/${id}`, { body: makePatient({ id }) }), { status: 400, code: 'invalid', messageId: 'MSG_ID_INVALID' })
  })

  it('returns 400 with an OperationOutcome for a path segment of 300 characters', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', `/Patient/${'a'.repeat(300)}`), { status: 400, code: 'invalid', diagnostics: /longer than 200/ })
  })

  it('returns 400 with an OperationOutcome for broken percent-encoding in the path', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/Patient/%E0%A4%A'), { status: 400, code: 'invalid' })
  })

  it("_id=' or 1=1-- matches nothing, and the Patient is still found by its own id", async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient?_id=${encodeURIComponent("' or 1=1--")}`)
    expect(res.statusCode).toBe(200)
    expect(resourceOf<Bundle>(res)).toMatchObject({ type: 'searchset', total: 0 })
    const found = resourceOf<Bundle>(await tenant.request('GET', `/Patient?_id=${patient.id}`))
    expect(found.entry?.map((e) => e.resource?.id)).toEqual([patient.id])
  })
})

describe('resource types and methods', () => {
  it('returns 404 with MSG_UNKNOWN_TYPE for an unknown resource type on read, create and search', async () => {
    const tenant = await t.newTenant()
    for (const [method, path] of [['GET', '/Foo/1'], ['POST', '/Foo'], ['GET', '/Foo'], ['GET', '/patient/1']] as const) {
      const res = await tenant.request(method, path, method === 'POST' ? { body: { resourceType: 'Foo' } } : {})
      expectOutcome(res, { status: 404, code: 'not-found', messageId: 'MSG_UNKNOWN_TYPE' })
    }
  })

  const wrongMethods: [InjectOptions['method'], string, string][] = [
    ['PUT', '/Patient', 'GET, POST'],
    ['DELETE', '/Patient', 'GET, POST'],
    ['POST', '/Patient/abc', 'GET, PUT, PATCH, DELETE'],
    ['GET', '/Patient/_search', 'POST'],
    ['POST', '/metadata', 'GET'],
    ['DELETE', '/_history', 'GET'],
    ['POST', '/Patient/_history', 'GET'],
    ['DELETE', '/Patient/abc/_history', 'GET'],
    ['PUT', '/Patient/abc/_history/1', 'GET'],
  ]
  for (const [method, path, allow] of wrongMethods) {
    it(`returns 405 with Allow: ${allow} for ${method} ${path}`, async () => {
      const tenant = await t.newTenant()
      const res = await tenant.request(method, path, method === 'GET' || method === 'DELETE' ? {} : { body: makePatient({ id: 'abc' }) })
      expectOutcome(res, { status: 405, code: 'not-supported' })
      expect(res.headers.allow).toBe(allow)
    })
  }
})

describe('content negotiation', () => {
  it('returns 415 for a text/plain or FHIR XML body', async () => {
    const tenant = await t.newTenant()
    for (const contentType of ['text/plain', 'application/fhir+xml']) {
      const res = await tenant.request('POST', '/Patient', { body: '<Patient xmlns="http://hl7.org/fhir"/>', headers: { 'content-type': contentType } })
      expectOutcome(res, { status: 415, code: 'not-supported' })
    }
  })

  it('returns 406 for Accept: application/xml', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    expectOutcome(await tenant.request('GET', `/Patient/${patient.id}`, { headers: { accept: 'application/xml' } }), { status: 406, code: 'not-supported' })
  })

  it('returns 406 for _format=xml, even with Accept: application/fhir+json', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${patient.id}?_format=xml`, { headers: { accept: 'application/fhir+json' } })
    expectOutcome(res, { status: 406, code: 'not-supported', diagnostics: /_format/ })
  })

  it('answers Accept: */* with application/fhir+json', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const res = await tenant.request('GET', `/Patient/${patient.id}`, { headers: { accept: '*/*' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
  })

  it('accepts a body sent as application/json as well as application/fhir+json; charset=utf-8', async () => {
    const tenant = await t.newTenant()
    for (const contentType of ['application/json', 'application/fhir+json; charset=utf-8']) {
      const res = await tenant.request('POST', '/Patient', { body: makePatient(), headers: { 'content-type': contentType } })
      expect(res.statusCode, res.body).toBe(201)
      expect(resourceOf<Patient>(res).birthDate).toBe('1970-01-31')
    }
  })

  it('serves GET and DELETE that carry a JSON Content-Type and an empty body', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const headers = { 'content-type': 'application/fhir+json' }
    expect((await tenant.request('GET', `/Patient/${patient.id}`, { headers })).statusCode).toBe(200)
    expect((await tenant.request('DELETE', `/Patient/${patient.id}`, { headers })).statusCode).toBe(204)
  })

  it('ignores a Prefer header it does not know and answers the representation', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient', { body: makePatient(), headers: { prefer: 'respond-async, x-unknown=1' } })
    expect(res.statusCode).toBe(201)
    expect(resourceOf(res).resourceType).toBe('Patient')
  })
})

describe('unexpected errors', () => {
  it('answers 500 "Internal server error" without echoing the error text', async () => {
    const faultyRepo = Object.assign(Object.create(t.services.repo) as typeof t.services.repo, {
      read: async () => {
        throw new Error('connection string postgres://secret@db')
      },
    })
    const app = await buildApp(t.config, { ...t.services, repo: faultyRepo })
    try {
      const tenant = await t.newTenant()
      const res = await app.inject({ method: 'GET', url: `/fhir/${tenant.tenantId}/Patient/abc`, headers: { authorization: `Bearer ${tenant.token}` } })
      const outcome = expectOutcome(res, { status: 500, code: 'exception', diagnostics: /^Internal server error$/ })
      expect(JSON.stringify(outcome)).not.toContain('secret')
    } finally {
      await app.close()
    }
  })
})

describe('hostile requests', () => {
  it('rejects prototype-pollution attempts in bodies and patches, and Object.prototype stays clean', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const jsonPatch = { 'content-type': 'application/json-patch+json' }
    const attempts: [InjectOptions['method'], string, unknown, Record<string, string>?][] = [
      ['POST', '/Patient', '{"resourceType":"Patient","__proto__":{"polluted":true}}'],
      ['PUT', `/Patient/${patient.id}`, `{"resourceType":"Patient","id":"${patient.id}","name":[{"__proto__":{"polluted":true}}]}`],
      ['PATCH', `/Patient/${patient.id}`, [{ op: 'add', path: '/__proto__/polluted', value: true }], jsonPatch],
      ['PATCH', `/Patient/${patient.id}`, [{ op: 'add', path: '/constructor/prototype/polluted', value: true }], jsonPatch],
    ]
    for (const [method, path, body, headers] of attempts) {
      const res = await tenant.request(method, path, { body, headers })
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBeGreaterThanOrEqual(400)
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBeLessThan(500)
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(resourceOf(await tenant.request('GET', `/Patient/${patient.id}`))).toEqual(patient)
  })

  it('never answers 500, and always answers an OperationOutcome', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const requests: [InjectOptions['method'], string, unknown?, Record<string, string>?][] = [
      ['GET', `/Patient/${patient.id}?_summary=${encodeURIComponent("'; select 1")}`],
      ['GET', `/Patient/${patient.id}?_elements=${encodeURIComponent('name)(')}`],
      ['GET', `/Patient?_lastUpdated=${encodeURIComponent("gt2020'--")}`],
      ['GET', '/Patient?_count=99999999999999999999'],
      ['GET', '/Patient?_offset=-5'],
      ['GET', '/_history?_cursor=1%20or%201=1'],
      ['GET', '/_history?_since=2020&_since=2021'],
      ['GET', `/Patient/${patient.id}/_history/99999999999999999999`],
      ['GET', `/Patient/${patient.id}`, undefined, { 'if-none-match': '"unterminated' }],
      ['GET', `/Patient/${patient.id}`, undefined, { 'if-modified-since': 'not a date' }],
      ['PUT', `/Patient/${patient.id}`, patient, { 'if-match': 'W/"abc def"' }],
      ['POST', '/Patient', 'null'],
      ['POST', '/Patient', '"a string"'],
      ['POST', '/Patient', '\ufeff{"resourceType":"Patient"}'],
      ['POST', '/Patient', { resourceType: 'Patient', name: 'not-an-array' }],
      ['POST', '/Patient', { resourceType: 'Patient', contained: [{ resourceType: 'Nope' }] }],
      ['POST', '/Patient', { resourceType: 'Patient', birthDate: { $gt: '' } }],
      ['PATCH', `/Patient/${patient.id}`, [{ op: 'add', path: '/__proto__/x', value: 1 }], { 'content-type': 'application/json-patch+json' }],
      ['PATCH', `/Patient/${patient.id}`, { resourceType: 'Parameters', parameter: 'x' }],
      ['POST', '/Patient/$validate', '[]'],
      ['POST', `/Patient/${patient.id}/$unknown`, {}],
    ]
    for (const [method, path, body, headers] of requests) {
      const res = await tenant.request(method, path, { body, headers })
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBeLessThan(500)
      if (res.statusCode >= 400) expect(resourceOf<OperationOutcome>(res).resourceType, `${method} ${path}`).toBe('OperationOutcome')
    }
    expect(resourceOf(await tenant.request('GET', `/Patient/${patient.id}`)).meta?.versionId).toBe('1')
  })
})
