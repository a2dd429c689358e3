import { readFileSync } from 'node:fs'
import { loadFhirDefinitions } from './src/resources/index.js'
import { r4SearchParamRegistry } from './src/resources/indexing/registry.js'
import { extractIndexRows } from './src/resources/indexing/extract.js'
loadFhirDefinitions()
const reg = r4SearchParamRegistry()
const obs = JSON.parse(readFileSync('bench/observation.json','utf8'))
obs.id='o1'; obs.meta = { versionId: '1', lastUpdated: '2024-01-01T00:00:00Z', tag: [{system:'s',code:'t'}] }
obs.component=[{code:{coding:[{system:'s',code:'c'}]},valueQuantity:{value:1,unit:'mg'}}]
const p = {resourceType:'Patient', id:'x', name:[{family:'Pérez', given:['José']}], birthDate:'1970', address:[{city:'X', line:['a','b']}], gender:'male', active:true, telecom:[{system:'phone',value:'555'}], identifier:[{system:'urn:s', value:'v1', type:{coding:[{system:'http://terminology.hl7.org/CodeSystem/v2-0203',code:'MR'}]}}], generalPractitioner:[{reference:'http://fhir.test/fhir/t1/Practitioner/9'}], deceasedBoolean: false}
const ctx = { localBase: 'http://fhir.test/fhir/t1/' }
for (const r of [obs, p]) {
  const params = reg.forType(r.resourceType)
  console.log(r.resourceType, 'params', params.byCode.size, 'indexed', params.indexed.length)
  const rows = extractIndexRows(params, r, ctx)
  console.log(JSON.stringify(rows, (k, v) => k === 'seen' || k === 'sortIndex' ? undefined : v))
  console.log('count', rows.count)
  for (let i = 0; i < 2000; i++) extractIndexRows(params, r, ctx)
  const t = performance.now(); const N = 20000
  for (let i = 0; i < N; i++) extractIndexRows(params, r, ctx)
  console.log('us/resource', ((performance.now() - t) / N * 1000).toFixed(1))
}
