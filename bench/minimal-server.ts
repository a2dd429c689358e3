/**
 * The benchmark baseline: Fastify + `pg` with nothing else — no validation, no auth, no history,
 * no versioning. One INSERT per create, one SELECT by primary key per read, one UPDATE per update.
 * Runs as its own process (bench/run.ts spawns it); env: DATABASE_URL, PORT, DB_POOL_SIZE.
 */
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) throw new Error('DATABASE_URL is required')
const port = Number(process.env.PORT ?? 8091)
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DB_POOL_SIZE ?? 10) })

// Same column type as our `resource.content` (text): the stored JSON is served as is.
await pool.query('CREATE TABLE IF NOT EXISTS bench_minimal (id text PRIMARY KEY, content text NOT NULL)')

const app = Fastify({ logger: false })
type Body = Record<string, unknown>

app.get('/healthz', async () => ({ status: 'ok' }))

app.post<{ Body: Body }>('/Observation', async (request, reply) => {
  const id = randomUUID()
  const json = JSON.stringify({ ...request.body, id })
  await pool.query('INSERT INTO bench_minimal (id, content) VALUES ($1, $2)', [id, json])
  return reply.code(201).header('location', `/Observation/${id}`).type('application/json').send(json)
})

app.get<{ Params: { id: string } }>('/Observation/:id', async (request, reply) => {
  const { rows } = await pool.query<{ content: string }>('SELECT content FROM bench_minimal WHERE id = $1', [request.params.id])
  const row = rows[0]
  if (!row) return reply.code(404).send({ error: 'not found' })
  return reply.type('application/json').send(row.content)
})

app.put<{ Params: { id: string }; Body: Body }>('/Observation/:id', async (request, reply) => {
  const json = JSON.stringify({ ...request.body, id: request.params.id })
  const result = await pool.query('UPDATE bench_minimal SET content = $2 WHERE id = $1', [request.params.id, json])
  if (result.rowCount !== 1) return reply.code(404).send({ error: 'not found' })
  return reply.type('application/json').send(json)
})

const close = async () => {
  await app.close()
  await pool.end()
  process.exit(0)
}
process.once('SIGINT', close)
process.once('SIGTERM', close)
await app.listen({ host: '127.0.0.1', port })
