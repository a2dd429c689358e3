import type { Parameters, ParametersParameter } from '@medplum/fhirtypes'
import { forbidden, invalid } from '../errors.js'
import { isResourceType, type ReindexResult } from '../resources/index.js'
import { acceptedJob, asyncContext, jobCaller } from './async.js'
import type { OperationContext, OperationDescriptor, OperationResult } from './types.js'

/** Canonical of our OperationDefinition (R4 defines no $reindex; HAPI's takes similar input). */
export const REINDEX_DEFINITION = 'https://segimed.health/fhir/OperationDefinition/reindex'

/**
 * $reindex — recomputes the search index rows of the tenant's stored resources with the search
 * parameters in force now, so resources stored before a tenant SearchParameter was created (or
 * changed) become searchable by it (https://hl7.org/fhir/R4/searchparameter.html). Type level
 * (`POST [base]/Patient/$reindex`) walks that type; system level (`POST [base]/$reindex`) walks
 * every type the tenant has, or those named by the `type` parameter (repeated or comma-separated,
 * in a Parameters body or the query). Runs as an async job (https://hl7.org/fhir/R4/async.html):
 * 202 + Content-Location, polls answer X-Progress ("reindexing Patient; 1500 of 4000 done"), the
 * completed job answers a Parameters with the counts. DELETE on the job stops it between batches.
 * Throws `invalid` (bad parameter, named) and `forbidden` (a token limited to part of the tenant).
 */
export const reindexOperation: OperationDescriptor = {
  code: 'reindex',
  levels: ['system', 'type'],
  affectsState: true,
  definition: REINDEX_DEFINITION,
  async run(ctx) {
    const types = reindexTypes(ctx)
    const { jobs, baseUrl, requestUrl, caller } = asyncContext(ctx)
    if (ctx.scope.access || caller.patient) throw forbidden('$reindex needs access to the whole tenant (a system or tenant-admin token), not a token limited to some resources')
    const { repo, scope } = ctx
    const jobId = await jobs.start(jobCaller(scope, caller.owner), {
      kind: 'reindex',
      requestUrl,
      baseUrl,
      async run({ signal, progress }) {
        const result = await repo.reindex(scope, {
          types,
          signal,
          onProgress: (p) => progress(p.done, p.total, p.resourceType ? `reindexing ${p.resourceType}` : undefined),
        })
        signal.throwIfAborted()
        progress(result.done, result.total, 'completed')
        return { result: reindexParameters(result) }
      },
    })
    return acceptedJob(jobs, baseUrl, jobId) satisfies OperationResult
  },
}

/** The types to walk: the URL's type, or the `type` parameter, or undefined for every type. */
function reindexTypes(ctx: OperationContext): string[] | undefined {
  const named = [...typesOfQuery(ctx.query), ...typesOfBody(ctx.body)]
  if (ctx.level === 'type') {
    if (named.length) throw invalid('At type level $reindex walks the type of the URL; the `type` parameter is for [base]/$reindex', { expression: ['type'] })
    return [ctx.resourceType!]
  }
  if (!named.length) return undefined
  const types = [...new Set(named.flatMap((t) => t.split(',')).map((t) => t.trim()))]
  for (const type of types) {
    if (!isResourceType(type)) throw invalid(`Parameter type: '${type.slice(0, 64)}' is not an R4 resource type`, { expression: ['type'] })
  }
  return types
}

function typesOfQuery(query: OperationContext['query']): string[] {
  for (const name of Object.keys(query)) {
    if (name !== 'type' && name !== '_type') throw invalid(`$reindex has no parameter '${name.slice(0, 64)}' (it takes only type)`, { expression: [name] })
  }
  return [query.type, query._type].flat().filter((v): v is string => typeof v === 'string')
}

function typesOfBody(body: unknown): string[] {
  if (body === undefined || body === null || body === '') return []
  const parameters = body as Partial<Parameters>
  if (typeof body !== 'object' || parameters.resourceType !== 'Parameters') {
    throw invalid('The body of $reindex must be a Parameters resource (or empty)', { expression: ['resourceType'] })
  }
  return (parameters.parameter ?? []).map((p: ParametersParameter, i) => {
    const value = p.valueCode ?? p.valueString
    if (p.name !== 'type' || typeof value !== 'string') {
      throw invalid(`Parameters.parameter[${i}]: $reindex takes only 'type' (valueCode or valueString), got '${String(p.name).slice(0, 64)}'`, {
        expression: [`Parameters.parameter[${i}]`],
      })
    }
    return value
  })
}

function reindexParameters(result: ReindexResult): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'total', valueInteger: result.total },
      { name: 'reindexed', valueInteger: result.reindexed },
      { name: 'skipped', valueInteger: result.skipped },
      ...Object.entries(result.byType).map(([type, n]) => ({
        name: 'type',
        part: [
          { name: 'name', valueCode: type },
          { name: 'reindexed', valueInteger: n },
        ],
      })),
    ],
  }
}
