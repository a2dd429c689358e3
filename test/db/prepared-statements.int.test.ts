import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CompiledQuery } from 'kysely'
import type { Db } from '../../src/db/connect.js'
import { PREPARED } from '../../src/db/prepared-statements.js'
import { openTestDb } from '../setup/db.js'

describe('marked statements', () => {
  let db: Db
  beforeAll(async () => {
    db = await openTestDb({ poolSize: 1 })
  })
  afterAll(() => db?.close())

  const text = `${PREPARED}SELECT $1::int + 1 AS n /* prepared-statements test */`

  it('run as a named prepared statement on PostgreSQL and as a plain one on PGlite, with the same result', async () => {
    for (const n of [1, 41]) {
      const { rows } = await db.db.executeQuery<{ n: number }>(CompiledQuery.raw(text, [n]))
      expect(rows).toEqual([{ n: n + 1 }])
    }
    const { rows } = await db.db.executeQuery<{ name: string }>(
      CompiledQuery.raw(`SELECT name FROM pg_prepared_statements WHERE statement LIKE '%prepared-statements test%' AND NOT from_sql`, []),
    )
    // PGlite shares one backend session among every connection: names there would collide.
    if (inject('isEmbeddedDatabase')) expect(rows).toEqual([])
    else expect(rows.map((r) => r.name)).toEqual([expect.stringMatching(/^segimed_\d+$/)])
  })
})
