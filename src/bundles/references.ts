import { invalid } from '../errors.js'
import { isResourceType } from '../resources/index.js'

/** What references resolve to, by exact string (http.html#trules, bundle.html#references). */
export interface ResolvedReferences {
  /** Entry fullUrl → `Type/id` of the resource that entry created or updated. */
  readonly fullUrls: ReadonlyMap<string, string>
  /** Conditional reference (`Practitioner?identifier=a|b`) → `Type/id` of its one match. */
  readonly conditional: ReadonlyMap<string, string>
}

const URN = /^urn:(uuid|oid):/
const NARRATIVE_LINK = /(\s(?:href|src)\s*=\s*")(urn:(?:uuid|oid):[^"]+)(")/g

/** True for a `Reference.reference` of the conditional form `Type?search` (http.html#trules). */
export function isConditionalReference(reference: string): boolean {
  const q = reference.indexOf('?')
  return q > 0 && isResourceType(reference.slice(0, q))
}

/** Every distinct conditional reference in `value`, in document order. */
export function conditionalReferences(value: unknown): string[] {
  const found = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) walk(item)
    else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (key === 'reference' && typeof child === 'string' && isConditionalReference(child)) found.add(child)
        else walk(child)
      }
    }
  }
  walk(value)
  return [...found]
}

/**
 * A copy of `resource` with every link to another entry replaced by that entry's `Type/id`:
 * `Reference.reference` anywhere (nested, in extensions, in contained resources) equal to an
 * entry's fullUrl or to a resolved conditional reference; any other string that is exactly a
 * `urn:uuid:`/`urn:oid:` fullUrl (uri, url, canonical values); and `href`/`src` urn links in the
 * narrative. Other values, such as an identifier system `urn:oid:...`, are left alone because
 * they match no fullUrl. Copying (never mutating) lets a retried transaction start again from
 * the request as sent. Throws `invalid` for a `urn:` reference that names no entry.
 */
export function rewriteReferences<T>(resource: T, resolved: ResolvedReferences, rootPath: string): T {
  const walk = (node: unknown, path: string, key: string): unknown => {
    if (typeof node === 'string') return rewriteString(node, key, path, resolved)
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`, key))
    if (typeof node !== 'object' || node === null) return node
    const copy: Record<string, unknown> = {}
    for (const [k, child] of Object.entries(node)) copy[k] = walk(child, `${path}.${k}`, k)
    return copy
  }
  return walk(resource, rootPath, '') as T
}

function rewriteString(value: string, key: string, path: string, resolved: ResolvedReferences): string {
  if (key === 'reference') {
    const target = resolved.fullUrls.get(value) ?? resolved.conditional.get(value)
    if (target !== undefined) return target
    if (URN.test(value)) {
      throw invalid(`Reference '${value}' matches no entry's fullUrl in this Bundle`, { expression: [path] })
    }
    return value
  }
  if (key === 'div') {
    return value.includes('urn:') ? value.replace(NARRATIVE_LINK, (all, open: string, urn: string, close: string) => {
      const target = resolved.fullUrls.get(urn)
      return target === undefined ? all : `${open}${target}${close}`
    }) : value
  }
  return URN.test(value) ? (resolved.fullUrls.get(value) ?? value) : value
}
