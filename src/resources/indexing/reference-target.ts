/** `Type/id` or `.../Type/id` with an optional `/_history/v`. */
const TYPE_ID = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/

export interface ParsedReference {
  /** The resource type named by the reference, when it names one. */
  readonly type?: string
  readonly id?: string
  /** True for `Type/id` (relative to this server). */
  readonly isRelative: boolean
}

export function parseReferenceString(reference: string): ParsedReference {
  const m = TYPE_ID.exec(reference)
  if (!m) return { isRelative: false }
  const isRelative = m.index === 0 && !reference.includes('://')
  return { type: m[1], id: m[2], isRelative }
}

/** The type a Reference points at: from its `reference`, else its `type` (for `where(resolve() is X)`). */
export function referenceTargetType(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const ref = value as { reference?: unknown; type?: unknown }
  if (typeof ref.reference === 'string') {
    const parsed = parseReferenceString(ref.reference)
    if (parsed.type) return parsed.type
  }
  return typeof ref.type === 'string' ? ref.type : undefined
}
