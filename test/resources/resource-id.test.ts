import { describe, expect, it } from 'vitest'
import { newResourceId } from '../../src/resources/resource-id.js'

describe('server-assigned resource ids', () => {
  it('are RFC 9562 version 7 UUIDs carrying the creation millisecond, valid FHIR ids', () => {
    const at = Date.UTC(2026, 10, 29, 12, 0, 0, 123)
    const id = newResourceId(at + 1_000_000)
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/)
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at + 1_000_000)
  })

  it('sort in creation order, also many within one millisecond, and never repeat', () => {
    const start = Date.now() + 2_000_000
    const ids = [...Array.from({ length: 10_000 }, () => newResourceId(start)), ...Array.from({ length: 100 }, (_, i) => newResourceId(start + 10 + i))]
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
