import type { LightMyRequestResponse } from 'fastify'
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes'
import { expect } from 'vitest'

const MESSAGE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/operation-outcome'

/**
 * Asserts an error reply: the status, a FHIR JSON OperationOutcome, and its first issue's
 * severity and code (a RegExp where several codes are acceptable), plus the MSG_* message id when
 * given. Returns the outcome.
 */
export function expectOutcome(
  res: LightMyRequestResponse,
  expected: { status: number; code: OperationOutcomeIssue['code'] | RegExp; severity?: OperationOutcomeIssue['severity']; messageId?: string; diagnostics?: RegExp },
): OperationOutcome {
  expect(res.statusCode, res.body).toBe(expected.status)
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/)
  const outcome = res.json<OperationOutcome>()
  expect(outcome.resourceType).toBe('OperationOutcome')
  const issue = outcome.issue?.[0]
  expect(issue?.severity).toBe(expected.severity ?? 'error')
  if (expected.code instanceof RegExp) expect(issue?.code).toMatch(expected.code)
  else expect(issue?.code).toBe(expected.code)
  if (expected.messageId) expect(issue?.details?.coding).toContainEqual({ system: MESSAGE_SYSTEM, code: expected.messageId })
  if (expected.diagnostics) expect(issue?.diagnostics).toMatch(expected.diagnostics)
  return outcome
}

/** The resource of a FHIR JSON reply. */
export const resourceOf = <T extends Resource = Resource>(res: LightMyRequestResponse): T => res.json<T>()

/** The entries of a Bundle reply. */
export const entriesOf = (res: LightMyRequestResponse) => res.json<Bundle>().entry ?? []

/** A Bundle link by relation, as a path relative to the tenant base (for tenant.request). */
export function linkPath(bundle: Bundle, relation: string, tenantId: string): string | undefined {
  const url = bundle.link?.find((l) => l.relation === relation)?.url
  if (!url) return undefined
  const { pathname, search } = new URL(url)
  return pathname.slice(`/fhir/${tenantId}`.length) + search
}
