import type { OperationOutcome, Parameters, Resource } from '@medplum/fhirtypes'
import { invalid } from '../errors.js'
import type { OperationContext, OperationDescriptor } from './types.js'

const MODES = ['create', 'update', 'delete'] as const
type Mode = (typeof MODES)[number]

/**
 * $validate — https://hl7.org/fhir/R4/resource-operation-validate.html. Runs the checks every
 * write runs and answers 200 with every issue, or a single information issue when valid.
 */
export const validateOperation: OperationDescriptor = {
  code: 'validate',
  levels: ['type', 'instance'],
  affectsState: false,
  definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  async run(ctx) {
    const { resource, mode } = await readInput(ctx)
    const issues: OperationOutcome['issue'] = []
    if (mode === 'delete') {
      if (ctx.id) await ctx.repo.read(ctx.scope, ctx.resourceType!, ctx.id)
    } else {
      if (resource === undefined) throw invalid('$validate needs a resource: send it as the body, or as the `resource` parameter of a Parameters body')
      const r = resource as Partial<Resource>
      if (r.resourceType !== ctx.resourceType) {
        const found = r.resourceType === undefined ? 'The resource has no resourceType' : `resourceType '${String(r.resourceType)}' does not match`
        issues.push(error('invalid', `${found}: the URL's type is ${ctx.resourceType}`, 'resourceType'))
      }
      if (mode === 'update' && ctx.id && r.id !== ctx.id) {
        issues.push(error('invalid', `Resource id '${String(r.id)}' does not match the URL id ${ctx.id}`, `${ctx.resourceType}.id`))
      }
      for (const issue of ctx.repo.validate(resource)) {
        issues.push({
          severity: issue.severity ?? 'error',
          code: (issue.code as 'invalid') ?? 'invalid',
          diagnostics: issue.diagnostics,
          ...(issue.expression ? { expression: issue.expression } : {}),
        })
      }
    }
    if (!issues.length) issues.push({ severity: 'information', code: 'informational', diagnostics: 'Validation successful: no issues found' })
    return { status: 200, resource: { resourceType: 'OperationOutcome', issue: issues } }
  },
}

function error(code: 'invalid', diagnostics: string, expression: string): NonNullable<OperationOutcome['issue']>[number] {
  return { severity: 'error', code, diagnostics, expression: [expression] }
}

async function readInput(ctx: OperationContext): Promise<{ resource: unknown; mode: Mode }> {
  let resource: unknown = ctx.body
  let modeText: unknown = ctx.query.mode
  const body = ctx.body as Partial<Parameters> | undefined
  if (body && typeof body === 'object' && body.resourceType === 'Parameters' && ctx.resourceType !== 'Parameters') {
    resource = body.parameter?.find((p) => p.name === 'resource')?.resource
    modeText = body.parameter?.find((p) => p.name === 'mode')?.valueCode ?? modeText
  }
  if (resource === undefined && ctx.id && (modeText === undefined || modeText === 'update')) {
    // Instance level without a body: validate what is stored.
    const stored = await ctx.repo.read(ctx.scope, ctx.resourceType!, ctx.id)
    resource = JSON.parse(stored.json)
  }
  const mode = (modeText ?? (ctx.id ? 'update' : 'create')) as Mode
  if (!MODES.includes(mode)) throw invalid(`$validate mode must be create, update or delete (got '${String(modeText)}')`, { expression: ['mode'] })
  return { resource, mode }
}
