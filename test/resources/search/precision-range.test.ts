import { describe, expect, it } from 'vitest'
import { precisionRange } from '../../../src/resources/search/params/decimal.js'

describe('precisionRange', () => {
  it('gives the half-unit range of the last written digit', () => {
    expect(precisionRange('100')).toEqual(['99.5', '100.5'])
    expect(precisionRange('100.00')).toEqual(['99.995', '100.005'])
    expect(precisionRange('-5')).toEqual(['-5.5', '-4.5'])
    expect(precisionRange('1e2')).toEqual(['50', '150'])
    expect(precisionRange('0.1')).toEqual(['0.05', '0.15'])
  })
})
