import { UCUM, toTypedValue } from '@medplum/core'
import type { Constraint, TypedValue } from '@medplum/core'
import type { CompiledExpression, FhirPathCompiler } from './fhirpath-compile.js'

/** An invariant (ElementDefinition.constraint) with its FHIRPath parsed and compiled once. */
export interface CompiledConstraint {
  readonly key: string
  readonly description: string
  readonly expression: string
  readonly evaluate: CompiledExpression
}

/** The outcome of the first invariant that does not hold: false, or its evaluation threw. */
export interface FailedInvariant {
  readonly constraint: CompiledConstraint
  readonly error?: unknown
}

/**
 * Invariants @medplum/core does not evaluate, skipped here too so decisions match: ele-1 (every
 * element has a value or children; the shape checks cover it), dom-3 (needs descendants() over the whole
 * resource), org-1 (kept lenient for backwards compatibility) and sdf-19.
 */
const SKIPPED_CONSTRAINTS: ReadonlySet<string> = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19'])

const UCUM_VALUE = toTypedValue(UCUM)

/**
 * Compiles the error-severity invariants of one element or type; `undefined` when none is left,
 * which is the case for most elements (they carry only ele-1). Warnings are not evaluated, as in
 * @medplum/core. Compiled expressions are shared between elements with the same FHIRPath (ext-1
 * alone appears on some 1,300 extension elements).
 */
export function compileConstraints(
  constraints: readonly Constraint[] | undefined,
  compiler: FhirPathCompiler,
  cache: Map<string, CompiledExpression>,
): readonly CompiledConstraint[] | undefined {
  const kept = (constraints ?? []).filter((c) => c.severity === 'error' && !SKIPPED_CONSTRAINTS.has(c.key))
  if (kept.length === 0) return undefined
  return kept.map((c) => {
    let evaluate = cache.get(c.expression)
    if (!evaluate) cache.set(c.expression, (evaluate = compiler.compile(c.expression)))
    return { key: c.key, description: c.description, expression: c.expression, evaluate }
  })
}

/**
 * Evaluates invariants in order against one value and returns the first that fails, as
 * @medplum/core's constraintsCheck does (it reports one failed invariant per value). Variables are
 * those of https://hl7.org/fhir/R4/fhirpath.html#variables: %context, %resource (the innermost
 * resource), %rootResource and %ucum. An expression that throws counts as failed.
 */
export function firstFailedInvariant(
  constraints: readonly CompiledConstraint[],
  value: TypedValue,
  resource: TypedValue,
  rootResource: TypedValue,
): FailedInvariant | undefined {
  for (const constraint of constraints) {
    const variables = { '%context': value, '%ucum': UCUM_VALUE, '%resource': resource, '%rootResource': rootResource }
    try {
      const result = constraint.evaluate({ variables }, [value])
      if (result.length !== 1 || result[0]?.value?.valueOf() !== true) return { constraint }
    } catch (error) {
      return { constraint, error }
    }
  }
  return undefined
}
