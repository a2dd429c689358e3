import type { TypedValue } from '@medplum/core'
import type { FhirIssue } from '../../errors.js'
import type { FailedInvariant } from './invariants.js'
import type { Problem } from './primitive-formats.js'

type JsonObject = Record<string, unknown>

/**
 * The state of one validation: the issues found, the path of the element being looked at and the
 * resources it sits in (for FHIRPath's %resource). The path is a stack of segments, pushed and
 * popped as the walk goes, and turned into a FHIRPath string such as `Patient.name[0].given[1]`
 * only when an issue is reported, so valid data costs no string building.
 */
export class WalkContext {
  readonly issues: FhirIssue[] = []
  readonly rootResource: TypedValue
  private readonly segments: (string | number)[] = []
  private readonly resources: JsonObject[] = []
  private readonly typedResources: (TypedValue | undefined)[] = []

  constructor(root: JsonObject & { resourceType: string }) {
    this.rootResource = { type: root.resourceType, value: root }
    this.segments.push(root.resourceType)
    this.resources.push(root)
    this.typedResources.push(this.rootResource)
  }

  push(segment: string | number): void {
    this.segments.push(segment)
  }

  pop(): void {
    this.segments.pop()
  }

  enterResource(resource: JsonObject): void {
    this.resources.push(resource)
    this.typedResources.push(undefined)
  }

  exitResource(): void {
    this.resources.pop()
    this.typedResources.pop()
  }

  /** The innermost resource as a FHIRPath value, built on first use. */
  currentResource(): TypedValue {
    const last = this.typedResources.length - 1
    let typed = this.typedResources[last]
    if (!typed) {
      const resource = this.resources[last] as JsonObject
      typed = { type: String(resource.resourceType), value: resource }
      this.typedResources[last] = typed
    }
    return typed
  }

  /** The FHIRPath of the current element: `Observation.component[1].valueQuantity`. */
  path(): string {
    let path = ''
    for (const segment of this.segments) {
      path += typeof segment === 'number' ? `[${segment}]` : path === '' ? segment : `.${segment}`
    }
    return path
  }

  error(code: string, problem: Problem | string, child?: string): void {
    this.report('error', code, problem, child)
  }

  warning(code: string, problem: Problem | string): void {
    this.report('warning', code, problem)
  }

  invariant(failed: FailedInvariant): void {
    const { constraint, error } = failed
    const at = this.path()
    const rule = ` (rule: ${constraint.expression})`
    if (error !== undefined) {
      const reason = error instanceof Error ? error.message : String(error)
      this.issues.push({
        severity: 'error',
        code: 'processing',
        diagnostics: `Error evaluating invariant expression at ${at}${rule}: ${reason}`,
        expression: [at],
      })
    }
    this.issues.push({
      severity: 'error',
      code: 'invariant',
      diagnostics: `Constraint ${constraint.key} not met: ${constraint.description} at ${at}${rule}`,
      expression: [at],
    })
  }

  private report(severity: 'error' | 'warning', code: string, problem: Problem | string, child?: string): void {
    const { text, hint } = typeof problem === 'string' ? { text: problem, hint: undefined } : problem
    const here = this.path()
    const at = child === undefined ? here : `${here}.${child}`
    this.issues.push({ severity, code, diagnostics: `${text} at ${at}${hint ? `; ${hint}` : ''}`, expression: [at] })
  }
}
