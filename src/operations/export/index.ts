import { forbidden, invalid, isFhirError, notFound } from '../../errors.js'
import { R4_RESOURCE_TYPES, type Repository, type RequestScope } from '../../resources/index.js'
import { acceptedJob, asyncContext, jobCaller } from '../async.js'
import type { OperationCaller, OperationContext, OperationDescriptor, OperationResult } from '../types.js'
import { parseExportParams, requireRespondAsync, type ExportParams } from './params.js'
import { runExport } from './run-export.js'

/**
 * $export — Bulk Data Access 2.0 (https://hl7.org/fhir/uv/bulkdata/export.html): system level
 * (`[base]/$export`), all patients (`[base]/Patient/$export`) and a Group's members
 * (`[base]/Group/[id]/$export`), with `_type`, `_since`, `_typeFilter` and `_outputFormat`.
 * Kick-off needs `Prefer: respond-async`, answers 202 + Content-Location and runs as a job
 * (../jobs); the completed job answers the manifest, and the files are `[Type].ndjson`.
 *
 * Access: a patient token exports only its own compartment (`Patient/$export`); every type
 * exported needs a read scope (without `_type`, the types the token may read are exported).
 * Throws `invalid` (bad parameter, named; missing Prefer), `forbidden`, `not-found`.
 */
export const exportOperation: OperationDescriptor = {
  code: 'export',
  levels: ['system', 'type', 'instance'],
  resourceTypes: ['Patient', 'Group'],
  affectsState: false,
  checksScopes: true,
  definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export',
  async run(ctx) {
    const target = exportTarget(ctx)
    requireRespondAsync(ctx.headers)
    const { jobs, baseUrl, requestUrl, caller } = asyncContext(ctx)
    const reader = ctx.stores?.exportReader
    if (!reader) throw notFound('$export is not available on this server (no export reader configured)')
    const params = parseExportParams(ctx.query, ctx.body)
    const compartment = await compartmentOf(ctx, target, caller)
    const types = exportTypes(params, compartment ? reader.compartmentTypes : R4_RESOURCE_TYPES, caller, ctx.scope, Boolean(compartment))
    await checkTypeFilters(ctx.repo, ctx.scope, params)
    const plan = { scope: ctx.scope, repo: ctx.repo, reader, requestUrl, transactionTime: new Date(), types, params, compartment }
    const jobId = await jobs.start(jobCaller(ctx.scope, caller.owner), { kind: 'export', requestUrl, baseUrl, run: (job) => runExport(plan, job) })
    return acceptedJob(jobs, baseUrl, jobId) satisfies OperationResult
  },
}

type Target = 'system' | 'patients' | 'group'

function exportTarget(ctx: OperationContext): Target {
  if (ctx.level === 'system') return 'system'
  if (ctx.level === 'type' && ctx.resourceType === 'Patient') return 'patients'
  if (ctx.level === 'instance' && ctx.resourceType === 'Group') return 'group'
  throw notFound(`$export is offered at [base]/$export, [base]/Patient/$export and [base]/Group/[id]/$export, not on ${ctx.resourceType ?? ''}${ctx.id ? '/[id]' : ''}`, 'MSG_OP_NOT_ALLOWED')
}

/** The patients whose compartments are exported: undefined = no restriction (system level). */
async function compartmentOf(ctx: OperationContext, target: Target, caller: OperationCaller): Promise<{ patientIds?: readonly string[] } | undefined> {
  if (caller.patient && target !== 'patients') {
    throw forbidden(`A patient token may export only its own data: use [base]/Patient/$export`)
  }
  if (target === 'system') return undefined
  if (target === 'patients') return caller.patient ? { patientIds: [caller.patient] } : {}
  const stored = await ctx.repo.read(ctx.scope, 'Group', ctx.id!)
  const group = JSON.parse(stored.json) as { member?: { entity?: { reference?: string }; inactive?: boolean }[] }
  const patientIds = new Set<string>()
  for (const member of group.member ?? []) {
    if (member.inactive) continue
    const match = /(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})$/.exec(member.entity?.reference ?? '')
    if (match) patientIds.add(match[1]!)
  }
  return { patientIds: [...patientIds] }
}

/** `_type` checked against the level and the token's scopes; without it, every readable type. */
function exportTypes(params: ExportParams, candidates: readonly string[], caller: OperationCaller, scope: RequestScope, isCompartment: boolean): string[] {
  const readable = (type: string) => caller.allowsType(type, 'read') && (!scope.access || scope.access.allowsType(type, 'read'))
  if (params.types) {
    for (const type of params.types) {
      if (!candidates.includes(type)) {
        throw invalid(`_type names ${type}, which is not in the Patient compartment; Patient and Group exports hold compartment types only`, { expression: ['_type'] })
      }
      if (!readable(type)) throw forbidden(`The access token does not allow reading ${type}: drop it from _type or ask for a read scope on it`)
    }
    return [...params.types]
  }
  const types = candidates.filter(readable)
  if (!types.length) throw forbidden(`The access token allows reading no resource type${isCompartment ? ' of the Patient compartment' : ''}: nothing could be exported`)
  return types
}

/** Runs each `_typeFilter` query once, strictly, so a bad filter is a 400 at kick-off rather than a failed job. */
async function checkTypeFilters(repo: Repository, scope: RequestScope, params: ExportParams): Promise<void> {
  for (const [type, queries] of params.typeFilters) {
    for (const query of queries) {
      try {
        await repo.search(scope, { resourceType: type, params: [...query, ['_count', '1'], ['_total', 'none']], strict: true })
      } catch (e) {
        if (isFhirError(e) && e.kind === 'invalid') throw invalid(`_typeFilter ${type}?…: ${e.message}`, { expression: ['_typeFilter'] })
        throw e
      }
    }
  }
}
