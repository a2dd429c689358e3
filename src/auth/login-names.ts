/**
 * What a person types to sign in: an email address or a phone number. Both are normalised the
 * way they are stored (email in lower case, phone in E.164), so lookups and lockouts agree.
 */
export type LoginName = { email: string; phone?: undefined } | { phone: string; email?: undefined }

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/

export function parseLoginName(raw: string): LoginName | undefined {
  const value = raw.trim()
  if (value.includes('@')) return EMAIL.test(value) ? { email: value.toLowerCase() } : undefined
  const phone = normalisePhone(value)
  return phone ? { phone } : undefined
}

/** `+54 9 11 1234-5678` → `+5491112345678`; undefined unless it has 8 to 15 digits. */
export function normalisePhone(raw: string): string | undefined {
  const digits = raw.replace(/[\s().-]/g, '')
  if (!/^\+?\d{8,15}$/.test(digits)) return undefined
  return digits.startsWith('+') ? digits : `+${digits}`
}

export const loginKey = (name: LoginName): string => `login:${name.email ?? name.phone}`

/** `ju***@example.org`, `+54*******78`: enough for a person to recognise, too little to harvest. */
export function maskDestination(value: string): string {
  const at = value.indexOf('@')
  if (at > 0) return `${value.slice(0, Math.min(2, at))}***${value.slice(at)}`
  return `${value.slice(0, 3)}${'*'.repeat(Math.max(0, value.length - 5))}${value.slice(-2)}`
}
