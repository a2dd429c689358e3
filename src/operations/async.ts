import type { OperationOutcome } from '@medplum/fhirtypes'
import { FhirError } from '../errors.js'
import type { RequestScope } from '../resources/index.js'
import type { JobCaller, Jobs } from './jobs/index.js'
import type { OperationContext, OperationResult } from './types.js'

/**
 * The kick-off answer of an async request (https://hl7.org/fhir/R4/async.html):
 * 202 Accepted, `Content-Location: [base]/$job/<id>`, and an informational OperationOutcome.
 */
export function acceptedJob(jobs: Jobs, baseUrl: string, jobId: string): OperationResult {
  const location = jobs.statusUrl(baseUrl, jobId)
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics: `Accepted: poll ${location} for the status` }],
  }
  return { status: 202, resource: outcome, headers: { 'content-location': location } }
}

/** The job owner for this scope and caller. */
export function jobCaller(scope: RequestScope, owner: string): JobCaller {
  return { tenantId: scope.tenantId, owner }
}

/** What an operation needs to run as a job; `internal` when the HTTP layer did not provide it. */
export function asyncContext(ctx: OperationContext): { jobs: Jobs; baseUrl: string; requestUrl: string; caller: NonNullable<OperationContext['caller']> } {
  const { jobs, baseUrl, requestUrl, caller } = ctx
  if (!jobs || !baseUrl || !requestUrl || !caller) throw new FhirError('internal', 'This operation runs as an async job, but the job service was not wired to this route')
  return { jobs, baseUrl, requestUrl, caller }
}
