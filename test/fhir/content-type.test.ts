import { describe, expect, it } from 'vitest'
import { jsonDepth, parseJsonBody } from '../../src/fhir/content-type.js'

describe('jsonDepth', () => {
  it('counts nested objects and arrays', () => {
    expect(jsonDepth('{"a":[{"b":1}]}')).toBe(3)
  })

  it('ignores brackets inside strings, including escaped quotes', () => {
    expect(jsonDepth('{"a":"[[[{{\\"[[["}')).toBe(1)
  })
})

describe('parseJsonBody', () => {
  it('returns undefined for an empty body', () => {
    expect(parseJsonBody('  ', 10)).toBeUndefined()
  })

  it('refuses nesting past the limit before parsing', () => {
    expect(() => parseJsonBody('['.repeat(11) + ']'.repeat(11), 10)).toThrow(/nested 11 levels deep; the limit is 10/)
  })

  it('says why malformed JSON is refused', () => {
    expect(() => parseJsonBody('{"resourceType": ', 10)).toThrow(/^Request body is not valid JSON/)
  })
})
