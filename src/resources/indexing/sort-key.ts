/**
 * Order-preserving text encodings for the search_sort table: one text column sorts dates, numbers
 * and strings alike under COLLATE "C", so `ORDER BY lo, id LIMIT n` walks one index whatever the
 * parameter type.
 */

/** Instants as fixed-width ISO 8601 UTC; open ends sort before / after every date. */
export function dateSortKey(ms: number): string {
  if (ms === -Infinity) return '!'
  if (ms === Infinity) return '~'
  return new Date(ms).toISOString()
}

const EXPONENT_BIAS = 5000

/**
 * Decimals: a sign class ('1' negative, '2' zero, '3' positive), then the exponent (biased, and
 * complemented for negatives), then the significant digits (complemented for negatives, with a
 * terminator so that for negatives a shorter digit string sorts after a longer one: -1.2 > -1.23).
 */
export function numberSortKey(decimal: string): string {
  if (decimal === 'Infinity') return '4'
  if (decimal === '-Infinity') return '0'
  const negative = decimal.startsWith('-')
  const unsigned = decimal.replace(/^[-+]/, '')
  const [mantissa = '0', exponentPart] = unsigned.toLowerCase().split('e')
  const [intPart = '', fracPart = ''] = mantissa.split('.')
  const digits = (intPart + fracPart).replace(/^0+/, '')
  const leadingZeros = (intPart + fracPart).length - digits.length
  const significant = digits.replace(/0+$/, '')
  if (significant === '') return '2'
  // value = 0.d1d2d3... × 10^exponent
  const exponent = intPart.length - leadingZeros + Number(exponentPart ?? 0)
  if (!negative) return `3${pad(exponent + EXPONENT_BIAS)}${significant}`
  const complemented = [...significant].map((d) => String(9 - Number(d))).join('')
  return `1${pad(EXPONENT_BIAS - exponent)}${complemented}~`
}

function pad(n: number): string {
  return String(Math.max(0, Math.min(9999, n))).padStart(4, '0')
}
