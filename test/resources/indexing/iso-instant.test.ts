import { describe, expect, it } from 'vitest'
import { isoInstant } from '../../../src/resources/indexing/iso-instant.js'

describe('isoInstant', () => {
  it('formats like Date#toISOString at the edges of its fast range and of months, leap days and 1970', () => {
    const instants = [
      '1000-01-01T00:00:00.000Z', '1582-10-15T12:00:00.000Z', '1899-12-31T23:59:59.999Z', '1900-02-28T23:59:59.999Z', '1900-03-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.001Z', '2000-02-29T00:00:00.000Z', '2016-03-28T00:00:00.000Z',
      '2024-02-29T23:59:59.999Z', '2024-12-31T23:59:59.999Z', '2100-03-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
    ]
    for (const text of instants) expect(isoInstant(Date.parse(text)), text).toBe(text)
  })

  it('agrees with Date#toISOString on random instants, outside its range and on fractional milliseconds', () => {
    let seed = 42
    const random = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32
    const mismatches: number[] = []
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor((random() * 2 - 1) * 9e12)
      if (isoInstant(ms) !== new Date(ms).toISOString()) mismatches.push(ms)
    }
    expect(mismatches).toEqual([])
    for (const ms of [Date.UTC(999, 11, 31, 23, 59, 59, 999), Date.UTC(-5, 0, 1), Date.UTC(10000, 0, 1), Date.UTC(275760, 8, 13), 1_459_123_200_000.5]) {
      expect(isoInstant(ms)).toBe(new Date(ms).toISOString())
    }
    expect(isoInstant(Date.UTC(999, 0, 1))).toBe('0999-01-01T00:00:00.000Z')
  })
})
