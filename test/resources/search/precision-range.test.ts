import { describe, expect, it } from 'vitest'
import { numberSortKey } from '../../../src/resources/indexing/sort-key.js'
import { precisionRange } from '../../../src/resources/search/params/decimal.js'

describe('numberSortKey', () => {
  it('orders decimal keys as text exactly as the numbers order', () => {
    const numbers = ['-Infinity', '-1000', '-12.5', '-1.23', '-1.2', '-1', '-0.001', '0', '0.000', '0.001', '0.5', '1', '1.2', '1.23', '9.99', '10', '12.5', '1e3', '1000.5', 'Infinity']
    const keys = numbers.map(numberSortKey)
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    expect(sorted).toEqual(keys.map((k) => k))
    expect(numberSortKey('0')).toBe(numberSortKey('0.000'))
  })
})

describe('precisionRange', () => {
  it('gives the half-unit range of the last written digit', () => {
    expect(precisionRange('100')).toEqual(['99.5', '100.5'])
    expect(precisionRange('100.00')).toEqual(['99.995', '100.005'])
    expect(precisionRange('-5')).toEqual(['-5.5', '-4.5'])
    expect(precisionRange('1e2')).toEqual(['50', '150'])
    expect(precisionRange('0.1')).toEqual(['0.05', '0.15'])
  })
})
