import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, sep } from 'node:path'
import { defineConfig } from 'vitest/config'
import { hasSharedData, SHARED_DATA, SHARED_DATA_TESTS } from './test/fixtures/shared-data.js'

// The tests that read third-party data from shared/data run wherever it is present (always in CI,
// which sets REQUIRE_SHARED_DATA=1 so they can never be dropped silently there). A clone on a
// machine without it still runs everything else, as the README's `npm test` promises.
const requireSharedData = process.env.REQUIRE_SHARED_DATA === '1'
if (!hasSharedData && requireSharedData) throw new Error(`shared data not found at ${SHARED_DATA} (set SHARED_DATA_DIR)`)
if (!hasSharedData) console.warn(`shared data not found at ${SHARED_DATA}: skipping ${SHARED_DATA_TESTS.join(', ')}`)

const exclude = ['**/node_modules/**', ...(hasSharedData ? [] : SHARED_DATA_TESTS)]

/**
 * Files that assert the planner's choice (they run EXPLAIN): with other files writing the same tables
 * at the same time, the statistics they read move under them (search_string seq-scanned for
 * `family=Taylor` once), so on PostgreSQL they run after the rest, one at a time, in a database of
 * their own (global-setup.ts names it per project). Found by their text, so a new one joins them.
 */
const PLAN_TESTS = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts') && readFileSync(join('test', f), 'utf8').includes('EXPLAIN'))
  .map((f) => `test/${f.split(sep).join('/')}`)

// Embedded PGlite is one backend session: pglite-socket interleaves the extended-protocol messages
// of concurrent connections, so test files from several workers would corrupt each other's
// statements. On PostgreSQL (DATABASE_URL, as in CI) files run in parallel: at least two workers
// even on 2 CPUs (vitest's default there is one), since a file spends much of its time waiting on
// PostgreSQL; on a 2-core VM the suite took 620 s on one worker, 382-419 s this way.
const onPostgres = Boolean(process.env.DATABASE_URL)

const common = {
  globalSetup: ['./test/setup/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
}

export default defineConfig({
  test: onPostgres
    ? {
        // Inline projects without `extends`: an inherited `include` would be merged into each.
        projects: [
          {
            test: {
              ...common,
              name: 'parallel',
              include: ['test/**/*.test.ts'],
              exclude: [...exclude, ...PLAN_TESTS],
              maxWorkers: Math.max(2, availableParallelism() - 1),
              sequence: { groupOrder: 0 },
            },
          },
          { test: { ...common, name: 'plans', include: PLAN_TESTS, exclude, fileParallelism: false, sequence: { groupOrder: 1 } } },
        ],
      }
    : { ...common, include: ['test/**/*.test.ts'], exclude, fileParallelism: false },
})
