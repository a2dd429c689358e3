import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes'
import { OPERATIONS } from '../operations/index.js'
import { includesOf, revIncludesOf } from './capability-include.js'
import { R4_RESOURCE_TYPES, r4SearchParamRegistry, type SearchParamRegistry } from '../resources/index.js'

/**
 * The CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html), derived from what
 * the code offers: the resource type list, the interactions the routes implement, the search
 * parameters the search handler understands and the operation registry.
 */
export function buildCapabilityStatement(options: {
  baseUrl: string
  tokenUrl: string
  software: { name: string; version: string }
  /** SMART oauth-uris (https://hl7.org/fhir/smart-app-launch/STU2/conformance.html#using-cors): authorize, token, introspect, revoke, manage, register. */
  oauthUris?: Readonly<Record<string, string>>
  /** The tenant's search parameters (R4 plus its own SearchParameter resources); the R4 ones by default. */
  searchParams?: SearchParamRegistry
}): CapabilityStatement {
  const interactions: CapabilityStatementRestResource['interaction'] = (
    ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const
  ).map((code) => ({ code }))
  const operationsFor = (type: string) =>
    OPERATIONS.filter((op) => op.levels.some((l) => l !== 'system') && (!op.resourceTypes || op.resourceTypes.includes(type))).map((op) => ({
      name: op.code,
      definition: op.definition,
    }))
  const resources: CapabilityStatementRestResource[] = R4_RESOURCE_TYPES.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: interactions,
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    // Conditional interactions: src/fhir/routes/conditional.ts. Delete takes every match, up to
    // MAX_CONDITIONAL_DELETE (more → 412); in a Bundle entry it is the single form.
    conditionalCreate: true,
    conditionalRead: 'full-support',
    conditionalUpdate: true,
    conditionalDelete: 'multiple',
    searchParam: searchParamsOf(type, options.searchParams ?? r4SearchParamRegistry()),
    searchInclude: includesOf(type),
    searchRevInclude: revIncludesOf(type),
    operation: operationsFor(type),
  }))
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: options.software,
    implementation: { description: 'Segimed FHIR', url: options.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          // src/fhir/cors.ts: CORS_ORIGINS for the API and token endpoints; discovery answers any origin.
          cors: true,
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' },
              ],
              text: 'SMART App Launch (EHR and standalone, PKCE) and Backend Services; bearer tokens on every request',
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: Object.entries(options.oauthUris ?? { token: options.tokenUrl }).map(([url, valueUri]) => ({ url, valueUri })),
            },
          ],
        },
        resource: resources,
        interaction: [{ code: 'history-system' }, { code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }],
        // Parameters every type takes, also at system level ([base]?_type=...).
        searchParam: [...COMMON_SEARCH_PARAMS, SYSTEM_TYPE_PARAM],
        operation: OPERATIONS.filter((op) => op.levels.includes('system')).map((op) => ({ name: op.code, definition: op.definition })),
        // Compartment search: [base]/{Compartment}/{id}/{type} for all five; [base]/Patient|Encounter/{id}/* too.
        compartment: ['patient', 'encounter', 'relatedperson', 'practitioner', 'device'].map((c) => `http://hl7.org/fhir/CompartmentDefinition/${c}`),
      },
    ],
  }
}

type SearchParamDecl = NonNullable<CapabilityStatementRestResource['searchParam']>[number]

/** System level only (resources/search/system-search.ts). */
const SYSTEM_TYPE_PARAM: SearchParamDecl = {
  name: '_type',
  type: 'token',
  documentation: 'Resource types to search ([base]?_type=Patient,Practitioner&name=ana). Besides the common parameters, any parameter every listed type defines with the same code and type, each type searched by its own definition; one some type lacks or types differently is a 400',
}

/**
 * The special and result parameters every type answers besides its own (https://hl7.org/fhir/R4/search.html):
 * chains (`subject:Patient.name`, several levels) and `_has` work on every reference parameter.
 */
const COMMON_SEARCH_PARAMS: SearchParamDecl[] = [
  { name: '_text', type: 'string', definition: 'http://hl7.org/fhir/SearchParameter/DomainResource-text', documentation: 'Words of the narrative; case- and accent-insensitive, each word a prefix' },
  { name: '_content', type: 'string', definition: 'http://hl7.org/fhir/SearchParameter/Resource-content', documentation: 'Words anywhere in the resource (narrative and string values)' },
  { name: '_list', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-list', documentation: 'Resources referenced by the List with this id (entry.item)' },
  { name: '_has', type: 'string', documentation: 'Reverse chaining, nested: _has:Observation:subject:code=...' },
  { name: '_sort', type: 'string', documentation: 'Several keys, any parameter, - for descending' },
  { name: '_count', type: 'number', documentation: 'Page size, default 20, at most 1000; keyset paging through next/previous links' },
  { name: '_total', type: 'token', documentation: 'none | estimate | accurate (the default: exact)' },
  { name: '_contained', type: 'token', documentation: 'false (default), true (contained resources of the type, in containers of any type) or both; type-level search only, not in compartment searches, without _sort, with parameters other than _lastUpdated, composites, _has, _text, _content and _list; refused (403) to tokens limited to a patient compartment or granular scopes. Chains always also follow #id references into contained resources' },
  { name: '_containedType', type: 'token', documentation: 'container (default): the entry is the container; contained: the contained resource itself, fullUrl [container URL]#[contained id]' },
  { name: '_summary', type: 'token', documentation: 'true | text | data | count | false' },
  { name: '_elements', type: 'string' },
  { name: '_include', type: 'string', documentation: 'Type:param[:target], *, :iterate' },
  { name: '_revinclude', type: 'string', documentation: 'Type:param[:target], :iterate' },
]

/** Modifiers the search engine implements, per parameter type (declared in each searchParam's documentation). */
const MODIFIERS: Record<string, string> = {
  string: ':exact, :contains, :missing, :not',
  token: ':text, :not, :missing, :of-type (identifiers)',
  reference: ':[type], :identifier, :missing, :not',
  date: 'prefixes eq ne gt lt ge le sa eb ap; :missing, :not',
  number: 'prefixes eq ne gt lt ge le sa eb ap, implicit precision; :missing, :not',
  quantity: 'prefixes as number; value|system|code and value||unit; UCUM codes (mass, length, volume, time, amount, pressure, Cel/[degF]) also compare in canonical units; :missing, :not',
  special: 'Location near=lat|long|distance|units (units km, m, [mi_i], [nmi_i]; km when omitted; 10 km when no distance); :missing, :not',
  uri: ':below, :above, :missing, :not',
  composite: 'parts separated by $, matched on the same element; :missing',
}

/**
 * The search parameters the engine answers for a type (https://hl7.org/fhir/R4/search.html): every
 * R4 SearchParameter of the type with an expression (and the tenant's own), `_id`, `_lastUpdated`,
 * and the full-text, list and reverse-chain parameters. `_query` is not offered
 * (`_include`/`_revinclude`: searchInclude and searchRevInclude).
 */
function searchParamsOf(type: string, registry: SearchParamRegistry): CapabilityStatementRestResource['searchParam'] {
  const params = registry.forType(type)
  return [
    ...[...params.byCode.values()]
    .filter((def) => def.evaluate || def.column)
    .map((def) => ({
      name: def.code,
      definition: def.url,
      type: def.type as NonNullable<CapabilityStatementRestResource['searchParam']>[number]['type'],
      documentation: `${def.description ? `${def.description.split('\n')[0]} ` : ''}[supports ${def.column ? (def.column === 'id' ? ':not' : 'prefixes eq ne gt lt ge le sa eb ap') : (MODIFIERS[def.type] ?? ':missing')}]`,
    })),
    ...COMMON_SEARCH_PARAMS.filter((p) => p.name === '_text' || p.name === '_content' || p.name === '_list' || p.name === '_has'),
  ]
}
