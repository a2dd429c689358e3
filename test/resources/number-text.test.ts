import { describe, expect, it } from 'vitest'
import { attachNumberText, numberTextOf, numberTokens, restoreNumberText } from '../../src/resources/number-text.js'

describe('number text', () => {
  it('finds number tokens outside strings only', () => {
    expect(numberTokens('{"a":1.50,"b":"2.0 \\" 3","c":[-1e-5,7]}')).toEqual(['1.50', '-1e-5', '7'])
  })

  it('attaches nothing when every number round-trips', () => {
    const body = JSON.parse('{"a":1.5,"b":2}')
    attachNumberText(body, '{"a":1.5,"b":2}')
    expect(numberTextOf(body)).toBeUndefined()
  })

  it('restores 1.00 and an exponent after meta was added in front', () => {
    const text = '{"resourceType":"Observation","valueQuantity":{"value":1.00},"x":[1.000000000000000000E-245, 3]}'
    const body = JSON.parse(text)
    attachNumberText(body, text)
    const stored = JSON.stringify({ resourceType: 'Observation', meta: { versionId: '1' }, ...body })
    expect(restoreNumberText(stored, numberTextOf(body))).toBe(
      '{"resourceType":"Observation","meta":{"versionId":"1"},"valueQuantity":{"value":1.00},"x":[1.000000000000000000E-245,3]}',
    )
  })

  it('leaves the JSON as serialized when the numbers no longer line up', () => {
    expect(restoreNumberText('{"a":2}', ['1.0'])).toBe('{"a":2}')
    expect(restoreNumberText('{"a":1,"b":2}', ['1.0'])).toBe('{"a":1,"b":2}')
  })
})
