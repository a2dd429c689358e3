import type { Observation, Patient } from '@medplum/fhirtypes'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBaseSchema } from '../../../src/resources/base-schema.js'
import { compileExpression } from '../../../src/resources/indexing/expression.js'
import { indexFullText, textWords } from '../../../src/resources/indexing/full-text.js'
import { r4SearchParamRegistry } from '../../../src/resources/indexing/registry.js'
import { indexRowsFor } from '../../../src/resources/indexing/resource-indexer.js'
import { IndexRows } from '../../../src/resources/indexing/rows.js'

/**
 * The shortcuts of the extraction hot path (a create's main-thread cost): parameters whose root
 * keys a resource lacks are skipped unevaluated, and full-text words are scanned straight into sets.
 * Both must give exactly the rows the long way gives.
 */
describe('root keys of compiled expressions', () => {
  // Simple paths resolve against the type schema; without it everything is FHIRPath.
  beforeAll(() => ensureBaseSchema())

  it('names the first child step of a simple path and of a union of simple paths', () => {
    expect(compileExpression('Observation.code', 'Observation')?.rootKeys).toEqual(['code'])
    expect(compileExpression('Observation.effective', 'Observation')?.rootKeys).toEqual(['effectiveDateTime', 'effectivePeriod', 'effectiveTiming', 'effectiveInstant'])
    expect(compileExpression('Observation.code | Observation.component.code', 'Observation')?.rootKeys).toEqual(['code', 'component'])
  })

  it('leaves them unknown where the FHIRPath interpreter runs (always evaluated)', () => {
    expect(compileExpression('Patient.deceased.exists() and Patient.deceased != false', 'Patient')?.rootKeys).toBeUndefined()
    expect(compileExpression('Observation.code | Observation.value.exists()', 'Observation')?.rootKeys).toBeUndefined()
  })

  it('gives every registry parameter that has rows on a resource its rows although most are skipped', () => {
    const registry = r4SearchParamRegistry()
    const observation: Observation = {
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: 'Patient/p1' },
      effectivePeriod: { start: '2024-01-01', end: '2024-01-02' },
      component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }],
    }
    const rows = indexRowsFor({ registry }, 't1', observation)
    const skippable = registry.forType('Observation').indexed.filter((d) => d.rootKeys && !d.rootKeys.some((k) => k in observation))
    expect(skippable.length).toBeGreaterThan(10)
    expect(rows.token.param).toEqual(expect.arrayContaining(['code', 'status', 'component-code']))
    expect(rows.token.code).toEqual(expect.arrayContaining(['8867-4', 'final', '8480-6']))
    expect(rows.date.param).toEqual(['date'])
    expect(rows.date.low).toEqual(['2024-01-01T00:00:00.000Z'])
    expect(rows.date.high).toEqual(['2024-01-03T00:00:00.000Z'])
    expect(rows.reference.param).toEqual(['subject'])
    expect(rows.quantity.param).toContain('component-value-quantity')
    // `patient` is the `subject` rows of type Patient (union alias): no row of its own here.
    expect(rows.reference.param).not.toContain('patient')
  })
})

describe('full-text words', () => {
  const wordsOf = (resource: Patient) => {
    const rows = new IndexRows()
    indexFullText(rows, resource)
    return Object.fromEntries(rows.text.param.map((p, i) => [p, rows.text.words[i]!.split(' ')]))
  }

  it('keeps one row for both parameters when the narrative holds every word, distinct words in order', () => {
    const words = wordsOf({
      resourceType: 'Patient',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Maria <b>GARCIA</b> maria</p></div>' },
      name: [{ given: ['Maria'], family: 'Garcia' }],
    })
    expect(words).toEqual({ '_text,_content': ['maria', 'garcia'] })
  })

  it('splits the narrative from the rest when the resource has words the narrative lacks', () => {
    const words = wordsOf({
      resourceType: 'Patient',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Maria</div>' },
      name: [{ given: ['María'], family: 'Núñez-Pérez' }],
    })
    expect(words['_text']).toEqual(['maria'])
    expect(words['_content']).toEqual(['maria', 'nunez', 'perez'])
  })

  it('reads entities and non-ASCII narratives the long way, with the same words as textWords', () => {
    const div = '<div xmlns="http://www.w3.org/1999/xhtml">Jos&eacute; &amp; Zoë &lt;3</div>'
    const words = wordsOf({ resourceType: 'Patient', text: { status: 'generated', div } })
    expect(words['_text,_content']).toEqual(['jos', 'eacute', 'zoe', '3'])
    expect(textWords('Zoë & José')).toEqual(['zoe', 'jose'])
  })
})

describe('duplicate rows of one resource', () => {
  const token = (code: string | null, display: string | null = null, system: string | null = 'http://s') => ({ system, code, display })

  it('drops a repeated row and keeps rows that differ in any column, null apart from a value', () => {
    const rows = new IndexRows()
    rows.addToken('code', 0, token('a'))
    rows.addToken('code', 0, token('a'))
    rows.addToken('code', 1, token('a'))
    rows.addToken('code', 0, token('a', 'x'))
    rows.addToken('code', 0, token('a', null, null))
    rows.addToken('category', 0, token('a'))
    rows.addToken('code', 0, { ...token('a'), typeSystem: 'http://t', typeCode: 'MR' })
    rows.addToken('code', 0, { ...token('a'), typeSystem: 'http://t', typeCode: 'MR' })
    expect(rows.token.param).toEqual(['code', 'code', 'code', 'code', 'category', 'code'])
    expect(rows.token.ord).toEqual([0, 1, 0, 0, 0, 0])
    expect(rows.token.display).toEqual([null, null, 'x', null, null, null])
    expect(rows.token.system).toEqual(['http://s', 'http://s', 'http://s', null, 'http://s', 'http://s'])
    expect(rows.token.typeCode).toEqual([null, null, null, null, null, 'MR'])
    rows.addString('name', 0, 'jose', 'José')
    rows.addString('name', 0, 'jose', 'José')
    rows.addString('name', 0, 'jose', 'Jose')
    expect(rows.string.exact).toEqual(['José', 'Jose'])
    rows.addQuantity('value-quantity', 0, { low: '1', high: '1', system: 'u', code: 'g', unit: null })
    rows.addQuantity('value-quantity', 0, { low: '1', high: '1', system: 'u', code: 'g', unit: 'gram' })
    rows.addQuantity('value-quantity', 0, { low: '1', high: '1', system: 'u', code: 'g', unit: null })
    expect(rows.quantity.unit).toEqual([null, 'gram'])
  })

  it('keeps every column of a table aligned when a large table checks by key', () => {
    // Past 32 rows a table's check switches from comparing columns to a set of keys: the rows
    // already there must count, and a duplicate must leave no half row behind.
    const rows = new IndexRows()
    for (let round = 0; round < 3; round++) for (let i = 0; i < 50; i++) rows.addToken('code', 0, token(`c${i}`, i % 2 ? `d${i}` : null))
    for (let i = 0; i < 50; i++) rows.addToken('code', 0, token(`c${i}`, `other`))
    const t = rows.token
    expect(t.param.length).toBe(100)
    for (const column of Object.values(t)) expect(column.length).toBe(100)
    expect(new Set(t.code.map((c, i) => `${c}|${t.display[i]}`)).size).toBe(100)
    expect(t.code.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`))
    expect(t.display.slice(48, 52)).toEqual([null, 'd49', 'other', 'other'])
    // i and i + 40 make the same row (same parity, same id): the last 20 repeat rows past the 32nd.
    for (let i = 0; i < 60; i++) rows.addReference('subject', 0, i % 2 ? null : 'Patient', `p${i % 40}`)
    expect(rows.reference.refId).toEqual(Array.from({ length: 40 }, (_, i) => `p${i}`))
    expect(rows.reference.refType.filter((x) => x === null).length).toBe(20)
    expect(rows.reference.param.length).toBe(40)
  })
})
