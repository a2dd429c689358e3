import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes'
import { OPERATIONS } from '../operations/index.js'
import { R4_RESOURCE_TYPES } from '../resources/index.js'

/**
 * The CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html), derived from what
 * the code offers: the resource type list, the interactions the routes implement, the search
 * parameters the search handler understands and the operation registry.
 */
export function buildCapabilityStatement(options: { baseUrl: string; tokenUrl: string; software: { name: string; version: string } }): CapabilityStatement {
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
    conditionalCreate: false,
    conditionalRead: 'full-support',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
    searchParam: [
      { name: '_id', type: 'token', documentation: 'Logical id of the resource' },
      { name: '_lastUpdated', type: 'date', documentation: 'When the resource version last changed' },
    ],
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
          cors: false,
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }],
              text: 'OAuth 2.0 client_credentials; bearer tokens on every request',
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: options.tokenUrl }],
            },
          ],
        },
        resource: resources,
        interaction: [{ code: 'history-system' }],
      },
    ],
  }
}
