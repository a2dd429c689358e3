/**
 * Search value escaping (https://hl7.org/fhir/R4/search.html#escaping): `\,` `\|` `\$` `\\` stand
 * for the literal characters; unescaped ones separate OR values, token parts and composite parts.
 */
export function splitUnescaped(text: string, separator: ',' | '|' | '$'): string[] {
  const parts: string[] = []
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\') i++
    else if (c === separator) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts
}

export function unescapeValue(text: string): string {
  return text.includes('\\') ? text.replace(/\\([,|$\\])/g, '$1') : text
}
