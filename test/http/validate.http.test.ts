import type { Bundle, OperationOutcome, Parameters, Patient, Resource } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp, type TestTenant } from '../setup/app.js'
import { expectOutcome, resourceOf } from '../setup/outcome.js'
import { createPatient } from '../fixtures/seed.js'

/** $validate — https://hl7.org/fhir/R4/resource-operation-validate.html */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

const asParameters = (resource: Resource | undefined, mode?: string): Parameters => ({
  resourceType: 'Parameters',
  parameter: [...(resource ? [{ name: 'resource', resource }] : []), ...(mode ? [{ name: 'mode', valueCode: mode }] : [])],
})

/** The OperationOutcome of a 200 $validate reply. */
async function validate(tenant: TestTenant, path: string, body?: unknown): Promise<OperationOutcome> {
  const res = await tenant.request('POST', path, body === undefined ? {} : { body })
  expect(res.statusCode, res.body).toBe(200)
  expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8')
  const outcome = resourceOf<OperationOutcome>(res)
  expect(outcome.resourceType).toBe('OperationOutcome')
  return outcome
}

const expectValid = (outcome: OperationOutcome) =>
  expect(outcome.issue).toEqual([{ severity: 'information', code: 'informational', diagnostics: expect.any(String) }])

const errorExpressions = (outcome: OperationOutcome) =>
  (outcome.issue ?? []).filter((i) => i.severity === 'error').flatMap((i) => i.expression ?? [])

describe('$validate at type level', () => {
  it('answers 200 with a single information issue for a valid Patient body', async () => {
    const tenant = await t.newTenant()
    expectValid(await validate(tenant, '/Patient/$validate', makePatient()))
  })

  it('answers 200 with one error issue per problem, each with its expression, for an invalid Patient', async () => {
    const tenant = await t.newTenant()
    const outcome = await validate(tenant, '/Patient/$validate', makePatient({ birthDate: '1970-13-45', gender: 'f' as never }))
    expect(errorExpressions(outcome)).toEqual(expect.arrayContaining(['Patient.birthDate', 'Patient.gender']))
    expect(outcome.issue?.every((i) => i.severity === 'error')).toBe(true)
  })

  it('reports Observation.status outside its required ValueSet', async () => {
    const tenant = await t.newTenant()
    const outcome = await validate(tenant, '/Observation/$validate', makeObservation({ status: 'done' as never }))
    expect(outcome.issue?.[0]).toMatchObject({ severity: 'error', code: 'code-invalid', expression: ['Observation.status'] })
  })

  it('accepts a Parameters body with resource and mode=create', async () => {
    const tenant = await t.newTenant()
    expectValid(await validate(tenant, '/Patient/$validate', asParameters(makePatient(), 'create')))
    const invalid = await validate(tenant, '/Patient/$validate', asParameters(makePatient({ gender: 'f' as never }), 'create'))
    expect(errorExpressions(invalid)).toEqual(['Patient.gender'])
  })

  it('reports a resource of another type than the URL as an error on resourceType', async () => {
    const tenant = await t.newTenant()
    const outcome = await validate(tenant, '/Patient/$validate', makeObservation())
    expect(errorExpressions(outcome)).toContain('resourceType')
  })

  it('stores nothing', async () => {
    const tenant = await t.newTenant()
    await validate(tenant, '/Patient/$validate', makePatient())
    expect(resourceOf<Bundle>(await tenant.request('GET', '/Patient/_history')).total).toBe(0)
  })

  it('returns 400 naming mode for a mode that is not create, update or delete', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('POST', '/Patient/$validate', { body: asParameters(makePatient(), 'frobnicate') })
    const outcome = expectOutcome(res, { status: 400, code: 'invalid', diagnostics: /frobnicate/ })
    expect(outcome.issue?.[0]?.expression).toEqual(['mode'])
  })

  it('returns 400 when no resource is given', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('POST', '/Patient/$validate', { body: asParameters(undefined, 'create') }), { status: 400, code: 'invalid' })
  })

  it('answers GET too, since $validate changes nothing (400 without a resource)', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('GET', '/Patient/$validate'), { status: 400, code: 'invalid', diagnostics: /needs a resource/ })
  })

  it('returns 405 for PUT', async () => {
    const tenant = await t.newTenant()
    const res = await tenant.request('PUT', '/Patient/$validate', { body: makePatient() })
    expectOutcome(res, { status: 405, code: 'not-supported' })
    expect(res.headers.allow).toBe('GET, POST')
  })
})

describe('$validate at instance level', () => {

  it('validates the stored resource when there is no body', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    expectValid(await validate(tenant, `/Patient/${patient.id}/$validate`))
  })

  it('validates a proposed update sent as the body', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    expectValid(await validate(tenant, `/Patient/${patient.id}/$validate`, { ...patient, active: false }))
    const invalid = await validate(tenant, `/Patient/${patient.id}/$validate`, { ...patient, birthDate: 'tomorrow' })
    expect(errorExpressions(invalid)).toEqual(['Patient.birthDate'])
  })

  it('reports an id that does not match the URL in mode update', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    const outcome = await validate(tenant, `/Patient/${patient.id}/$validate`, asParameters({ ...patient, id: 'other' }, 'update'))
    expect(errorExpressions(outcome)).toContain('Patient.id')
  })

  it('answers an information issue for mode=delete of an existing resource', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    expectValid(await validate(tenant, `/Patient/${patient.id}/$validate`, asParameters(undefined, 'delete')))
  })

  it('returns 404 for a resource that does not exist and no body', async () => {
    const tenant = await t.newTenant()
    expectOutcome(await tenant.request('POST', '/Patient/missing/$validate'), { status: 404, code: 'not-found' })
  })

  it('returns 404 with MSG_OP_NOT_ALLOWED for an operation the server does not offer', async () => {
    const tenant = await t.newTenant()
    const patient = await createPatient(tenant)
    expectOutcome(await tenant.request('POST', `/Patient/${patient.id}/$frobnicate`, { body: {} }), {
      status: 404,
      code: 'not-found',
      messageId: 'MSG_OP_NOT_ALLOWED',
    })
  })
})
