import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    globalSetup: ['./test/setup/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Embedded PGlite is one backend session: pglite-socket interleaves the extended-protocol
    // messages of concurrent connections, so test files from several workers would corrupt each
    // other's statements. On PostgreSQL (DATABASE_URL, as in CI) files run in parallel.
    fileParallelism: Boolean(process.env.DATABASE_URL),
  },
})
