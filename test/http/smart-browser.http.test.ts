import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { chromium, type Browser } from 'playwright-core'
import type { Bundle, Observation } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'
import { newUser, PASSWORD } from './smart-flow.js'

/**
 * The real thing: Debian's chromium (driven by playwright-core, no browser download) runs the
 * SMART JavaScript client `fhirclient` through a standalone launch with PKCE against this server
 * listening on a loopback port, signs in on our pages, and reads the patient's Observations.
 */
const CHROMIUM = '/usr/bin/chromium'
// A fresh machine with only Node has no chromium: there the browser test is skipped (the README's
// `npm test` must pass), while CI installs chromium and sets REQUIRE_BROWSER_TEST=1 so it can
// never be skipped silently there.
const hasBrowser = existsSync(CHROMIUM)
if (!hasBrowser && process.env.REQUIRE_BROWSER_TEST === '1') throw new Error(`${CHROMIUM} is missing but REQUIRE_BROWSER_TEST=1`)
let t: TestApp
let browser: Browser
let origin: string

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

// The SMART app: a launch page that starts authorize, and the redirect page that reads data.
const LAUNCH_PAGE = (clientId: string, iss: string) => `<!doctype html><html><body><script src="/smart-app/fhir-client.js"></script><script>
FHIR.oauth2.authorize({ clientId: ${JSON.stringify(clientId)}, scope: 'launch/patient patient/*.rs openid fhirUser', redirectUri: '/smart-app/index.html', iss: ${JSON.stringify(iss)}, pkceMode: 'required' })
</script></body></html>`
const APP_PAGE = `<!doctype html><html><body><pre id="result">waiting</pre><script src="/smart-app/fhir-client.js"></script><script>
FHIR.oauth2.ready()
  .then((client) => client.request('Observation').then((bundle) => ({ patient: client.patient.id, bundle })))
  .then((out) => { document.getElementById('result').textContent = JSON.stringify(out) })
  .catch((e) => { document.getElementById('result').textContent = 'ERROR ' + e.message })
</script></body></html>`

beforeAll(async () => {
  if (!hasBrowser) return
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  t = await buildTestApp({ BASE_URL: origin })
  const clientScript = readFileSync('node_modules/fhirclient/build/fhir-client.js', 'utf8')
  t.app.get('/smart-app/fhir-client.js', (_req, reply) => reply.type('application/javascript').send(clientScript))
  t.app.get<{ Querystring: { client: string; iss: string } }>('/smart-app/launch.html', (req, reply) => reply.type('text/html').send(LAUNCH_PAGE(req.query.client, req.query.iss)))
  t.app.get('/smart-app/index.html', (_req, reply) => reply.type('text/html').send(APP_PAGE))
  await t.app.listen({ host: '127.0.0.1', port })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await t?.close()
})

describe.skipIf(!hasBrowser)('fhirclient in chromium', () => {
  it('completes a standalone launch with PKCE and reads only the patient’s Observations', async () => {
    const tenant = await t.newTenant()
    const post = async (body: object) => (await tenant.request('POST', `/${(body as { resourceType: string }).resourceType}`, { body })).json()
    const patient = await post(makePatient())
    const other = await post(makePatient({ name: [{ family: 'Otro' }] }))
    const mine = (await post(makeObservation({ subject: { reference: `Patient/${patient.id}` } }))) as Observation
    const theirs = (await post(makeObservation({ subject: { reference: `Patient/${other.id}` } }))) as Observation
    const { client_id } = await t.services.auth.registerClient(tenant.tenantId, {
      name: 'Browser app',
      type: 'public',
      scope: 'launch/patient patient/*.rs openid fhirUser',
      redirectUris: [`${origin}/smart-app/index.html`],
    })
    const user = await newUser(t, tenant.tenantId, 'patient', `Patient/${patient.id}`)
    const iss = `${origin}/fhir/${tenant.tenantId}`

    const context = await browser.newContext({ locale: 'es-AR', viewport: { width: 390, height: 844 } })
    const page = await context.newPage()
    await page.goto(`${origin}/smart-app/launch.html?client=${encodeURIComponent(client_id)}&iss=${encodeURIComponent(iss)}`)
    await page.waitForSelector('#login', { timeout: 20_000 })
    expect(page.url()).toContain('code_challenge_method=S256')
    expect(await page.textContent('h1')).toBe('Iniciar sesión')
    await page.fill('#login', user.email)
    await page.fill('#password', PASSWORD)
    await page.click('button[type=submit]')
    await page.waitForSelector('button[value=allow]', { timeout: 20_000 })
    await page.click('button[value=allow]')
    await page.waitForFunction(() => document.getElementById('result')?.textContent !== 'waiting', undefined, { timeout: 20_000 })
    const text = (await page.textContent('#result')) ?? ''
    expect(text.startsWith('ERROR'), text).toBe(false)
    const result = JSON.parse(text) as { patient: string; bundle: Bundle<Observation> }
    expect(result.patient).toBe(patient.id)
    const ids = (result.bundle.entry ?? []).map((e) => e.resource?.id)
    expect(ids).toContain(mine.id)
    expect(ids).not.toContain(theirs.id)
    await context.close()
  }, 90_000)
})
