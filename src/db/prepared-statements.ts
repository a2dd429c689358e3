import type { PostgresPool, PostgresPoolClient } from 'kysely'
import type pg from 'pg'

/**
 * A statement whose text starts with this comment runs as a named prepared statement on
 * PostgreSQL: parsed, analysed and planned once per connection instead of on every execution.
 * The write statements (data-modifying CTEs over ten tables) spent about a third of their
 * PostgreSQL time there. Only fixed-text statements may carry it: every distinct text becomes one
 * prepared statement per connection.
 */
export const PREPARED = '/* prepared */ '

/** Distinct prepared texts one process will name; past this, marked statements run unnamed. */
const MAX_PREPARED = 256

const names = new Map<string, string>()

function nameOf(text: string): string | undefined {
  let name = names.get(text)
  if (!name && names.size < MAX_PREPARED) {
    name = `segimed_${names.size + 1}`
    names.set(text, name)
  }
  return name
}

const patched = Symbol('segimed.prepared')

/**
 * Wraps a pg pool for Kysely's PostgresDialect so that marked statements run as named prepared
 * statements (pg tracks per connection which names it has already sent). Not on PGlite (embedded,
 * or any pglite-socket server a URL points at, as the tests do): its one backend session is shared
 * by every connection and outlives them, so a second pool or a reconnecting client would send a
 * name the session already holds. The first connection asks the server which it is.
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  let enabled: Promise<boolean> | undefined
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = (await pool.connect()) as pg.PoolClient & { [patched]?: true }
      enabled ??= client
        .query<{ v: string }>('select version() as v')
        .then((r) => !/PGlite/i.test(r.rows[0]?.v ?? ''))
        .catch(() => false)
      if ((await enabled) && !client[patched]) {
        const query = client.query.bind(client) as (config: unknown, values?: unknown) => Promise<unknown>
        client[patched] = true
        ;(client as unknown as { query: typeof query }).query = (config: unknown, values?: unknown) => {
          if (typeof config === 'string' && config.startsWith(PREPARED)) {
            const name = nameOf(config)
            if (name) return query({ name, text: config, values })
          }
          return query(config, values)
        }
      }
      return client as unknown as PostgresPoolClient
    },
    end: () => pool.end(),
  }
}
