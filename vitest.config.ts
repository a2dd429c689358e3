import { defineConfig } from 'vitest/config'
import { hasSharedData, SHARED_DATA, SHARED_DATA_TESTS } from './test/fixtures/shared-data.js'

// The tests that read third-party data from shared/data run wherever it is present (always in CI,
// which sets REQUIRE_SHARED_DATA=1 so they can never be dropped silently there). A clone on a
// machine without it still runs everything else, as the README's `npm test` promises.
const requireSharedData = process.env.REQUIRE_SHARED_DATA === '1'
if (!hasSharedData && requireSharedData) throw new Error(`shared data not found at ${SHARED_DATA} (set SHARED_DATA_DIR)`)
if (!hasSharedData) console.warn(`shared data not found at ${SHARED_DATA}: skipping ${SHARED_DATA_TESTS.join(', ')}`)

export default defineConfig({
  test: {
    globalSetup: ['./test/setup/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(hasSharedData ? [] : SHARED_DATA_TESTS)],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Embedded PGlite is one backend session: pglite-socket interleaves the extended-protocol
    // messages of concurrent connections, so test files from several workers would corrupt each
    // other's statements. On PostgreSQL (DATABASE_URL, as in CI) files run in parallel.
    fileParallelism: Boolean(process.env.DATABASE_URL),
  },
})
