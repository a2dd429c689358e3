import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { createServices } from '../../src/services.js'
import { buildTestApp, type TestApp } from '../setup/app.js'

/** Liveness and readiness probes; outside the FHIR base, no token. */
let t: TestApp
beforeAll(async () => {
  t = await buildTestApp()
})
afterAll(() => t.close())

describe('health', () => {
  it('GET /healthz answers 200 {"status":"ok"} without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('GET /readyz answers 200 and names the database engine when the database answers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok', database: t.services.db.engine })
  })

  it('GET /readyz answers 503 "unavailable" once the database is gone, while /healthz still answers 200', async () => {
    const services = await createServices(t.config)
    const app = await buildApp(t.config, services)
    try {
      await services.db.close()
      const ready = await app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(503)
      expect(ready.json()).toMatchObject({ status: 'unavailable' })
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})
