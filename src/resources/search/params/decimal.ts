/**
 * Exact decimal arithmetic for implicit precision (https://hl7.org/fhir/R4/search.html#number):
 * `100` means [99.5, 100.5), `100.00` means [99.995, 100.005). Done on digit strings, never floats.
 */
const DECIMAL = /^([-+]?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/

export function isDecimal(text: string): boolean {
  return DECIMAL.test(text)
}

/** [value - half unit of the last digit, value + half unit) as decimal strings. */
export function precisionRange(text: string): [string, string] {
  const m = DECIMAL.exec(text)
  if (!m) throw new Error(`not a decimal: ${text}`)
  const [, sign, int, frac = '', exp = '0'] = m
  // value = ±(int.frac) × 10^exp; scaled to integer units of 10^-(scale) with one more digit for the half.
  const scale = frac.length - Number(exp) + 1
  const units = BigInt(`${sign === '-' ? '-' : ''}${int}${frac}0`)
  return [toDecimal(units - 5n, scale), toDecimal(units + 5n, scale)]
}

function toDecimal(units: bigint, scale: number): string {
  if (scale <= 0) return (units * 10n ** BigInt(-scale)).toString()
  const negative = units < 0n
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0')
  const text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return negative ? `-${text}` : text
}
