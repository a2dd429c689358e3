/**
 * UCUM (https://ucum.org/ucum) conversion to canonical units, for quantity search in canonical form
 * (https://hl7.org/fhir/R4/search.html#quantity). A small table of the units clinical data uses —
 * mass, length, volume, time, amount, pressure, temperature — with SI prefixes, exponents, `.` and `/`
 * products, `10*n` factors and `{annotations}`. Kept here rather than @lhncbc/ucum-lhc: conversion is
 * on the index write path, and a parsed unit is cached per code, so a conversion costs a Map lookup.
 * A code outside the table (or with parentheses) has no canonical form: it is matched as written.
 */

export const UCUM_SYSTEM = 'http://unitsofmeasure.org'

/**
 * The `system` of the extra search_quantity row holding a UCUM quantity in canonical units (same
 * param and ord as the row as written; `code` = the canonical unit). Not a real code system: only
 * a UCUM search reads these rows, every other quantity condition excludes them. A quantity already
 * written in its canonical unit gets no such row: a UCUM search reads its own row instead.
 */
export const CANONICAL_SYSTEM = 'urn:segimed:ucum-canonical'

/** value (in the unit) → value in `unit`, the canonical unit: `value × factor + offset`. */
export interface UcumCanonical {
  /** Base units with exponents, sorted: `g`, `g.m-3`, `g.m-1.s-2`, `K`. */
  readonly unit: string
  readonly factor: number
  /** Non-zero only for Cel and [degF], which are allowed only alone. */
  readonly offset: number
}

type Dims = Record<string, number>
interface Atom { readonly factor: number; readonly dims: Dims; readonly isMetric: boolean; readonly offset?: number }

const atom = (factor: number, dims: Dims, isMetric = false, offset = 0): Atom => ({ factor, dims, isMetric, offset })
const PASCAL: Dims = { g: 1, m: -1, s: -2 }
const ATOMS: ReadonlyMap<string, Atom> = new Map([
  ['1', atom(1, {})],
  ['%', atom(0.01, {})],
  ['m', atom(1, { m: 1 }, true)],
  ['g', atom(1, { g: 1 }, true)],
  ['s', atom(1, { s: 1 }, true)],
  ['mol', atom(1, { mol: 1 }, true)],
  ['K', atom(1, { K: 1 }, true)],
  ['L', atom(1e-3, { m: 3 }, true)],
  ['l', atom(1e-3, { m: 3 }, true)],
  ['Pa', atom(1000, PASCAL, true)],
  ['bar', atom(1e8, PASCAL, true)],
  ['m[Hg]', atom(133322000, PASCAL, true)],
  ['m[H2O]', atom(9806650, PASCAL, true)],
  ['min', atom(60, { s: 1 })],
  ['h', atom(3600, { s: 1 })],
  ['d', atom(86400, { s: 1 })],
  ['wk', atom(604800, { s: 1 })],
  ['mo', atom(2629800, { s: 1 })],
  ['a', atom(31557600, { s: 1 })],
  ['[in_i]', atom(0.0254, { m: 1 })],
  ['[ft_i]', atom(0.3048, { m: 1 })],
  ['[lb_av]', atom(453.59237, { g: 1 })],
  ['[oz_av]', atom(28.349523125, { g: 1 })],
  ['Cel', atom(1, { K: 1 }, false, 273.15)],
  ['[degF]', atom(5 / 9, { K: 1 }, false, (459.67 * 5) / 9)],
])
const PREFIXES: ReadonlyMap<string, number> = new Map([
  ['G', 1e9], ['M', 1e6], ['k', 1e3], ['h', 1e2], ['da', 1e1], ['d', 1e-1], ['c', 1e-2], ['m', 1e-3], ['u', 1e-6], ['n', 1e-9], ['p', 1e-12], ['f', 1e-15],
])

/** Parsed codes, so indexing pays the parse once per distinct code. Bounded: codes come from data. */
const cache = new Map<string, UcumCanonical | null>()
const CACHE_LIMIT = 2000

/** The canonical form of a UCUM code, or undefined when the code is outside the table. */
export function ucumCanonical(code: string): UcumCanonical | undefined {
  let hit = cache.get(code)
  if (hit === undefined) {
    hit = parseUnit(code) ?? null
    if (cache.size >= CACHE_LIMIT) cache.clear()
    cache.set(code, hit)
  }
  return hit ?? undefined
}

/** A decimal string (or ±Infinity) in the unit → a decimal string in the canonical unit. */
export function toCanonical(c: UcumCanonical, value: string): string {
  const n = Number(value)
  if (!Number.isFinite(n)) return value
  // 15 significant digits drop binary noise (1000 × 0.001 = 1, 999.5 × 0.001 = 0.9995).
  return String(Number((n * c.factor + c.offset).toPrecision(15)))
}

function parseUnit(code: string): UcumCanonical | undefined {
  const text = code.replace(/\{[^{}]*\}/g, '').trim()
  if (!text || /[()\s]/.test(text)) return text === '' && code !== '' ? { unit: '1', factor: 1, offset: 0 } : undefined
  const dims: Dims = {}
  let factor = 1
  let offset = 0
  const terms = text.split(/(?=[./])/)
  for (const [i, raw] of terms.entries()) {
    const sign = raw.startsWith('/') ? -1 : 1
    const body = raw.startsWith('/') || raw.startsWith('.') ? raw.slice(1) : raw
    const term = parseTerm(body === '' ? '1' : body)
    if (!term) return undefined
    if (term.offset) {
      // An offset unit (Cel, [degF]) converts only alone: 5 Cel/h is a rate, not a temperature.
      if (terms.length !== 1 || term.exponent !== 1) return undefined
      offset = term.offset
    }
    if (i === 0 && raw.startsWith('.')) return undefined
    factor *= term.factor ** (sign * term.exponent)
    for (const [dim, e] of Object.entries(term.dims)) dims[dim] = (dims[dim] ?? 0) + sign * term.exponent * e
  }
  const unit = Object.entries(dims).filter(([, e]) => e !== 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([d, e]) => (e === 1 ? d : `${d}${e}`)).join('.')
  return { unit: unit || '1', factor, offset }
}

function parseTerm(body: string): (Atom & { exponent: number }) | undefined {
  const whole = ATOMS.get(body)
  if (whole) return { ...whole, exponent: 1 }
  const power = /^10[*^]([-+]?\d+)$/.exec(body)
  if (power) return { ...atom(10 ** Number(power[1]), {}), exponent: 1 }
  const m = /^(.*?)([-+]?\d+)?$/.exec(body)
  if (!m || !m[1]) return undefined
  const exponent = m[2] === undefined ? 1 : Number(m[2])
  const name = m[1]
  const plain = ATOMS.get(name)
  if (plain) return { ...plain, exponent }
  for (const [prefix, scale] of PREFIXES) {
    if (!name.startsWith(prefix)) continue
    const base = ATOMS.get(name.slice(prefix.length))
    if (base?.isMetric) return { ...base, factor: base.factor * scale, exponent }
  }
  return undefined
}
