import { afterAll, beforeAll, it } from 'vitest'
import { makeObservation, makePatient } from '../fixtures/builders.js'
import { buildTestApp, type TestApp } from '../setup/app.js'

let t: TestApp
beforeAll(async () => { t = await buildTestApp() })
afterAll(() => t.close())

it('probe', async () => {
  const tenant = await t.newTenant()
  const show = async (label: string, p: Promise<any>) => { const r = await p; console.log(label, r.statusCode, JSON.stringify(r.headers), r.body.slice(0, 600)) ; return r}
  await show('extra', tenant.request('POST', '/Patient', { body: { ...makePatient(), favouriteColour: 'blue' } }))
  const c = await show('create', tenant.request('POST', '/Patient', { body: makePatient({ text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } }) }))
  const id = c.json().id
  await show('summary true', tenant.request('GET', `/Patient/${id}?_summary=true`))
  await show('summary text', tenant.request('GET', `/Patient/${id}?_summary=text`))
  await show('summary data', tenant.request('GET', `/Patient/${id}?_summary=data`))
  await show('summary count', tenant.request('GET', `/Patient/${id}?_summary=count`))
  await show('elements', tenant.request('GET', `/Patient/${id}?_elements=birthDate`))
  await show('pretty', tenant.request('GET', `/Patient/${id}?_pretty=true`))
  await show('fmt', tenant.request('GET', `/Patient/${id}?_format=application/json`))
  await show('fmtxml', tenant.request('GET', `/Patient/${id}?_format=xml`))
  await show('acceptxml', tenant.request('GET', `/Patient/${id}`, { headers: { accept: 'application/xml' } }))
  await show('accepthtml', tenant.request('GET', `/Patient/${id}`, { headers: { accept: 'text/html' } }))
  await show('inm', tenant.request('GET', `/Patient/${id}`, { headers: { 'if-none-match': 'W/"1"' } }))
  await show('ims', tenant.request('GET', `/Patient/${id}`, { headers: { 'if-modified-since': new Date(Date.now() + 5000).toUTCString() } }))
  await show('xml ct', tenant.request('POST', '/Patient', { body: '<Patient/>', headers: { 'content-type': 'application/fhir+xml' } }))
  await show('text ct', tenant.request('POST', '/Patient', { body: 'hi', headers: { 'content-type': 'text/plain' } }))
  await show('no ct', t.app.inject({ method: 'POST', url: `/fhir/${tenant.tenantId}/Patient`, headers: { authorization: `Bearer ${tenant.token}` }, payload: Buffer.from('{}') }))
  await show('malformed', tenant.request('POST', '/Patient', { body: '{"resourceType": "Patient",' }))
  await show('deep', tenant.request('POST', '/Patient', { body: '{"resourceType":"Patient","extension":' + '['.repeat(100) + ']'.repeat(100) + '}' }))
  await show('badid', tenant.request('GET', `/Patient/${encodeURIComponent("1';drop table resource;--")}`))
  await show('badid2', tenant.request('GET', `/Patient/1';drop table resource;--`))
  await show('unknown type', tenant.request('GET', `/Foo/1`))
  await show('405', tenant.request('PUT', `/Patient`, { body: makePatient() }))
  await show('405b', tenant.request('POST', `/Patient/${id}`, { body: makePatient() }))
  await show('405c', tenant.request('HEAD', `/Patient/${id}`))
  await show('405d', tenant.request('OPTIONS', `/Patient/${id}`))
  await show('_id inj', tenant.request('GET', `/Patient?_id=${encodeURIComponent("' or 1=1--")}`))
  await show('get with ct', tenant.request('GET', `/Patient/${id}`, { headers: { 'content-type': 'application/fhir+json' } }))
  await show('delete ', tenant.request('DELETE', `/Patient/${id}`, { headers: { 'content-type': 'application/fhir+json' } }))
  await show('read deleted', tenant.request('GET', `/Patient/${id}`))
  await show('vread deleted', tenant.request('GET', `/Patient/${id}/_history/2`))
  await show('hist', tenant.request('GET', `/Patient/${id}/_history`))
  await show('badgender', tenant.request('POST', '/Patient', { body: makePatient({ gender: 'bogus' as never }) }))
  await show('badstatus', tenant.request('POST', '/Observation', { body: makeObservation({ status: 'bogus' as never }) }))
  await show('badbd', tenant.request('POST', '/Patient', { body: makePatient({ birthDate: '1970-13-01' }) }))
})
