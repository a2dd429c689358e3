import { isDataTypeLoaded } from '@medplum/core'
import { describe, expect, it } from 'vitest'
import { r4SearchParamRegistry } from '../../../src/resources/indexing/registry.js'

/**
 * Alias decisions read the R4 type schema (which names in a union expression are resource types).
 * This file loads nothing first (vitest isolates each file's modules): the registry must load the
 * schema itself, or a process that indexes before validating anything writes the rows of
 * `combo-code` and of composite components that every other process reads from their members.
 */
describe('search parameter registry without a preloaded schema', () => {
  it('decides union and composite aliases as with the schema loaded', () => {
    expect(isDataTypeLoaded('Observation')).toBe(false)
    const observation = r4SearchParamRegistry().forType('Observation')
    expect(observation.byCode.get('combo-code')?.union?.members.map((m) => m.code)).toEqual(['code', 'component-code'])
    expect(observation.byCode.get('code-value-quantity')?.components?.map((c) => c.alias)).toEqual(['code', 'value-quantity'])
    expect(observation.indexed.map((d) => d.code)).not.toContain('combo-code')
    expect(isDataTypeLoaded('Observation')).toBe(true)
  })
})
