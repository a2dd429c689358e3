import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CompiledQuery } from 'kysely'
import type { Db } from '../../src/db/connect.js'
import { arrayLiteral } from '../../src/db/array-literal.js'
import { openTestDb } from '../setup/db.js'

/** The database must read back exactly the column arrayLiteral wrote (src/db/array-literal.ts). */
describe('arrayLiteral', () => {
  let db: Db
  beforeAll(async () => {
    db = await openTestDb({ poolSize: 1 })
  })
  afterAll(() => db.close())

  const roundTrip = async <T>(literal: string, type: string): Promise<T[]> => {
    const { rows } = await db.db.executeQuery<{ v: T[] }>(CompiledQuery.raw(`SELECT $1::${type}[] AS v`, [literal]))
    return rows[0]!.v
  }

  it('keeps quotes, backslashes, separators, braces, spaces, NULL-like text, empty strings and Unicode as written', async () => {
    const values = ['plain', 'say "hi"', 'back\\slash', 'a,b', '{x}', ' padded ', 'NULL', 'null', '', 'José Ñandú 漢字', '\\"', 'tab\there']
    expect(await roundTrip<string>(arrayLiteral(values), 'text')).toEqual(values)
  })

  it('writes null and undefined as SQL NULL and numbers as numbers', async () => {
    expect(await roundTrip<string | null>(arrayLiteral(['a', null, undefined, 'b']), 'text')).toEqual(['a', null, null, 'b'])
    expect(await roundTrip<number>(arrayLiteral([0, -3, 32767]), 'int2')).toEqual([0, -3, 32767])
    // Read back as text: exactly the digits stored, not a JS number.
    expect(await roundTrip<string>(arrayLiteral(['185', '-Infinity', '0.000001']), 'numeric[]::text')).toEqual(['185', '-Infinity', '0.000001'])
  })

  it('writes an empty column as an empty array', async () => {
    expect(arrayLiteral([])).toBe('{}')
    expect(await roundTrip<string>(arrayLiteral([]), 'text')).toEqual([])
  })
})
