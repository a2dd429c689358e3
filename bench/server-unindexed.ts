/**
 * Our server with search indexing switched off, for one purpose: `npm run bench` measures what
 * indexing adds to a create over HTTP (issue 3: "indexing at most doubles the cost of a create").
 * Everything else is src/main.ts: config, validation, auth, history, group commit. Its writes
 * carry no index rows, so its searches miss them; nothing but this file turns indexing off.
 */
import { loadConfig } from '../src/config.js'
import { serve } from '../src/serve.js'

await serve(loadConfig(process.env), { indexing: false })
