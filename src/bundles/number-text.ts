import { attachNumberText, numberTextOf } from '../resources/index.js'

/**
 * Decimal precision inside Bundles (https://hl7.org/fhir/R4/datatypes.html#decimal): the HTTP
 * layer records the number texts of the whole request body; each entry resource gets its own
 * slice, so a `1.50` in a transaction is stored as `1.50` like in a single create. JSON.parse
 * keeps key order, so walking the parsed Bundle meets the numbers in document order; if the
 * count disagrees nothing is attached (the repository then stores numbers as parsed).
 */
export function distributeNumberText(bundle: unknown, resources: readonly unknown[]): void {
  const tokens = numberTextOf(bundle)
  if (!tokens) return
  const targets = new Set(resources.filter((r) => typeof r === 'object' && r !== null))
  const slices: [object, number, number][] = []
  let count = 0
  const walk = (value: unknown): void => {
    if (typeof value === 'number') count++
    else if (Array.isArray(value)) for (const item of value) walk(item)
    else if (typeof value === 'object' && value !== null) {
      const start = count
      for (const child of Object.values(value)) walk(child)
      if (targets.has(value)) slices.push([value, start, count])
    }
  }
  walk(bundle)
  if (count !== tokens.length) return
  for (const [resource, start, end] of slices) attachTokens(resource, tokens.slice(start, end))
}

/** Gives `to` (a rewritten copy of `from`, same numbers) the number texts of `from`. */
export function carryNumberText<T>(from: unknown, to: T): T {
  const tokens = numberTextOf(from)
  if (tokens) attachTokens(to, tokens)
  return to
}

// attachNumberText reads the tokens back from a JSON text; a bare array of them is one.
const attachTokens = (value: unknown, tokens: readonly string[]) => attachNumberText(value, `[${tokens.join(',')}]`)
