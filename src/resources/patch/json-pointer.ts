/**
 * JSON Pointer (RFC 6901) parsing: `/a~1b/0` → ['a/b', '0']. Returns undefined for a
 * malformed pointer. `__proto__` is refused so a patch can never reach Object.prototype.
 */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) return undefined
  const tokens = pointer.slice(1).split('/')
  if (tokens.some((token) => /~[^01]|~$/.test(token))) return undefined
  const unescaped = tokens.map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
  return unescaped.includes('__proto__') ? undefined : unescaped
}

/** An array index token: `0` or digits without a leading zero (RFC 6901 §4). */
export const isArrayIndex = (token: string): boolean => /^(0|[1-9][0-9]*)$/.test(token)

/** True when `prefix` names an ancestor of `tokens` (the RFC 6902 §4.4 move restriction). */
export const isProperPrefix = (prefix: readonly string[], tokens: readonly string[]): boolean =>
  prefix.length < tokens.length && prefix.every((token, i) => tokens[i] === token)
