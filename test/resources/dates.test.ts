import { describe, expect, it } from 'vitest'
import { parseDateRange } from '../../src/resources/index.js'
import { FhirError } from '../../src/errors.js'

describe('parseDateRange', () => {
  it('reads a year as the whole year', () => {
    const r = parseDateRange('2024', '_since')
    expect(r.start.toISOString()).toBe('2024-01-01T00:00:00.000Z')
    expect(r.end.toISOString()).toBe('2025-01-01T00:00:00.000Z')
  })

  it('reads a month, ending at the next month', () => {
    expect(parseDateRange('2024-02', 'x').end.toISOString()).toBe('2024-03-01T00:00:00.000Z')
  })

  it('reads a dateTime with offset in UTC, at second precision', () => {
    const r = parseDateRange('2024-03-10T10:00:00-03:00', 'x')
    expect(r.start.toISOString()).toBe('2024-03-10T13:00:00.000Z')
    expect(r.end.toISOString()).toBe('2024-03-10T13:00:01.000Z')
  })

  it('reads milliseconds as a one-millisecond range', () => {
    const r = parseDateRange('2024-03-10T10:00:00.123Z', 'x')
    expect(r.end.getTime() - r.start.getTime()).toBe(1)
  })

  it.each(['2024-13', '2024-02-30', '24', '2024-01-01T25:00:00Z', "2024' or 1=1", ''])('refuses %j naming the parameter', (value) => {
    try {
      parseDateRange(value, '_since')
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(FhirError)
      expect((e as FhirError).kind).toBe('invalid')
      expect((e as FhirError).message).toMatch(/^Parameter _since:/)
    }
  })
})
