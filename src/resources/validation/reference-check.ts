import type { WalkContext } from './walk-context.js'

/** `Patient/123`, `Patient/123/_history/2`, or the same at the end of an absolute URL. */
const LITERAL_REFERENCE = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/
/** `Patient?identifier=…`, a conditional reference inside a transaction. */
const CONDITIONAL_REFERENCE = /^([A-Z][A-Za-z]+)\?/

/**
 * Warns when a Reference names a resource type its element does not allow
 * (https://hl7.org/fhir/R4/references.html#Reference, ElementDefinition.type.targetProfile), as
 * @medplum/core does, but reads the type only where it is written: contained (`#…`), `urn:uuid:`
 * and `urn:oid:` references name no type, so they are not flagged. A warning, not an error, as in
 * @medplum/core: stored data written before the check was added must stay writable.
 */
export function checkReference(reference: Record<string, unknown>, targets: ReadonlySet<string>, ctx: WalkContext): void {
  const text = reference.reference
  if (typeof text !== 'string') return
  const type = (CONDITIONAL_REFERENCE.exec(text) ?? LITERAL_REFERENCE.exec(text))?.[1]
  if (type === undefined || targets.has(type)) return
  ctx.warning('structure', {
    text: `Invalid reference: got "${type}", expected ${[...targets].join(', ')}`,
    hint: 'point the reference at a resource of one of the allowed types',
  })
}
