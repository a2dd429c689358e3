import { tryGetDataType } from '@medplum/core'
import type { Resource } from '@medplum/fhirtypes'
import { invalid } from '../errors.js'

/** https://hl7.org/fhir/R4/search.html#summary (also valid on read). */
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false'

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }

export interface ElementFilter {
  summary?: SummaryMode
  elements?: readonly string[]
}

/** Reads `_summary` and `_elements` from the query; undefined when neither is asked for. */
export function parseElementFilter(query: Record<string, unknown>): ElementFilter | undefined {
  const summary = query._summary
  const elements = query._elements
  if (summary === undefined && elements === undefined) return undefined
  const filter: { summary?: SummaryMode; elements?: string[] } = {}
  if (summary !== undefined) {
    if (typeof summary !== 'string' || !['true', 'text', 'data', 'count', 'false'].includes(summary)) {
      throw invalid(`_summary must be one of true, text, data, count, false (got '${String(summary)}')`, { expression: ['_summary'] })
    }
    filter.summary = summary as SummaryMode
  }
  if (elements !== undefined) {
    const list = (Array.isArray(elements) ? elements : [elements]).flatMap((e) => String(e).split(',')).map((e) => e.trim()).filter(Boolean)
    for (const e of list) {
      if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(e)) {
        throw invalid(`_elements entry '${e}' is not an element name`, { expression: ['_elements'] })
      }
    }
    filter.elements = list
  }
  if (filter.summary === 'false' && !filter.elements) return undefined
  return filter
}

/** Applies the filter; marks the result SUBSETTED as the spec requires. */
export function applyElementFilter(resource: Resource, filter: ElementFilter): Resource {
  const source = resource as unknown as Record<string, unknown>
  const schema = tryGetDataType(resource.resourceType)
  const mandatory = schema?.mandatoryProperties ?? new Set<string>()
  let keep: (key: string) => boolean
  if (filter.elements) {
    // `_elements` names top-level elements, optionally prefixed by the type (`Patient.name`);
    // a deeper path (`name.given`) keeps its whole top-level element.
    const wanted = new Set(
      filter.elements.map((e) => {
        const parts = e.split('.')
        return parts.length > 1 && parts[0] === resource.resourceType ? parts[1]! : parts[0]!
      }),
    )
    keep = (k) => wanted.has(k) || mandatory.has(k)
  } else if (filter.summary === 'true') {
    const summary = schema?.summaryProperties ?? new Set<string>()
    keep = (k) => summary.has(k) || mandatory.has(k)
  } else if (filter.summary === 'text') {
    keep = (k) => k === 'text' || mandatory.has(k)
  } else if (filter.summary === 'data') {
    keep = (k) => k !== 'text'
  } else {
    return resource
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(source)) {
    const base = key.startsWith('_') ? key.slice(1) : key
    if (key === 'resourceType' || key === 'id' || key === 'meta' || keep(base)) out[key] = value
  }
  const meta = (out.meta ?? {}) as { tag?: unknown[] }
  out.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] }
  return out as unknown as Resource
}
