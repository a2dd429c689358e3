/**
 * FHIR decimals keep their precision (https://hl7.org/fhir/R4/datatypes.html#decimal): `1.00` is
 * not `1`. JSON.parse loses that, so the HTTP layer records the number tokens of a request body
 * that would not survive a parse/stringify round trip, and the repository writes those exact
 * texts back into the JSON it stores. Bodies without such numbers (nearly all) cost one scan.
 */
export const NUMBER_TEXT: unique symbol = Symbol('segimed.numberText')

type WithNumberText = { [NUMBER_TEXT]?: readonly string[] }

/** Every number token of a JSON text in document order, or undefined when all round-trip exactly. */
export function impreciseNumberTokens(json: string): string[] | undefined {
  const tokens = numberTokens(json)
  return tokens.some((t) => String(Number(t)) !== t) ? tokens : undefined
}

/** Attaches the original number texts to a parsed body (a symbol: JSON.stringify ignores it). */
export function attachNumberText(value: unknown, json: string): void {
  if (typeof value !== 'object' || value === null) return
  const tokens = impreciseNumberTokens(json)
  if (tokens) Object.defineProperty(value, NUMBER_TEXT, { value: tokens, enumerable: false })
}

export function numberTextOf(value: unknown): readonly string[] | undefined {
  return typeof value === 'object' && value !== null ? (value as WithNumberText)[NUMBER_TEXT] : undefined
}

/**
 * Puts the original number texts back into `json` (serialized from the parsed body plus server
 * meta, which holds no numbers). Tokens are matched in order and only where the values agree, so
 * a body changed in between is left as serialized.
 */
export function restoreNumberText(json: string, original: readonly string[] | undefined): string {
  if (!original) return json
  const out: string[] = []
  let last = 0
  let index = 0
  let mismatch = false
  scanNumbers(json, (start, end) => {
    const token = json.slice(start, end)
    const source = original[index++]
    if (source === undefined || Number(source) !== Number(token)) {
      mismatch = true
      return
    }
    out.push(json.slice(last, start), source)
    last = end
  })
  if (mismatch || index !== original.length) return json
  out.push(json.slice(last))
  return out.join('')
}

export function numberTokens(json: string): string[] {
  const tokens: string[] = []
  scanNumbers(json, (start, end) => tokens.push(json.slice(start, end)))
  return tokens
}

/** Calls `found(start, end)` for each number token outside strings. */
function scanNumbers(json: string, found: (start: number, end: number) => void): void {
  const n = json.length
  let i = 0
  while (i < n) {
    const c = json.charCodeAt(i)
    if (c === 34) {
      // string: skip to the closing quote, honouring escapes
      i++
      while (i < n) {
        const d = json.charCodeAt(i)
        if (d === 92) i += 2
        else if (d === 34) break
        else i++
      }
      i++
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i
      i++
      while (i < n) {
        const d = json.charCodeAt(i)
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) i++
        else break
      }
      found(start, i)
    } else i++
  }
}
