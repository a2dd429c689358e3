import type { SearchParamRegistry } from './indexing/registry.js'
import { compartmentMembers as compartmentDefinition } from './search/compartments.js'

/** The compartments `$everything` and `[base]/{Compartment}/{id}/*` walk. */
export type EverythingCompartment = 'Patient' | 'Encounter'

/** A compartment resolved against the registry: member type → its reference parameters pointing at the compartment's resource. */
export interface CompartmentMembers {
  readonly resourceType: EverythingCompartment
  readonly members: ReadonlyMap<string, readonly string[]>
}

/**
 * The date a resource's care happened, for `$everything`'s `start`/`end` ("care dates, not record
 * currency dates"): the clinical `date` parameter where the type has one, else the parameter named
 * here (MedicationRequest's `date` is its dosage schedule, so `authoredon` wins).
 */
const CARE_DATE: Readonly<Record<string, string>> = {
  Basic: 'created',
  ChargeItem: 'entered-date',
  Claim: 'created',
  ClaimResponse: 'created',
  Communication: 'sent',
  CommunicationRequest: 'authored',
  Condition: 'onset-date',
  CoverageEligibilityRequest: 'created',
  CoverageEligibilityResponse: 'created',
  DetectedIssue: 'identified',
  DeviceRequest: 'authored-on',
  DocumentManifest: 'created',
  ExplanationOfBenefit: 'created',
  Goal: 'start-date',
  ImagingStudy: 'started',
  Media: 'created',
  MedicationAdministration: 'effective-time',
  MedicationDispense: 'whenhandedover',
  MedicationRequest: 'authoredon',
  MedicationStatement: 'effective',
  NutritionOrder: 'datetime',
  Provenance: 'recorded',
  QuestionnaireResponse: 'authored',
  RequestGroup: 'authored',
  ServiceRequest: 'authored',
  Specimen: 'collected',
  Task: 'authored-on',
  VisionPrescription: 'datewritten',
}

const cache = new WeakMap<SearchParamRegistry, Map<EverythingCompartment, CompartmentMembers>>()

/**
 * The compartment's member types and parameters (the R4 CompartmentDefinitions, search/compartments.ts),
 * keeping only reference parameters the registry indexes (`{def}`, the owner itself, is handled apart).
 */
export function compartmentMembers(registry: SearchParamRegistry, compartment: EverythingCompartment): CompartmentMembers {
  let byCompartment = cache.get(registry)
  if (!byCompartment) cache.set(registry, (byCompartment = new Map()))
  let resolved = byCompartment.get(compartment)
  if (!resolved) {
    const members = new Map<string, readonly string[]>()
    for (const [type, params] of Object.entries(compartmentDefinition(compartment) ?? {})) {
      const byCode = registry.forType(type).byCode
      const indexed = params.filter((p) => byCode.get(p)?.type === 'reference' && byCode.get(p)?.evaluate)
      if (indexed.length) members.set(type, indexed)
    }
    resolved = { resourceType: compartment, members }
    byCompartment.set(compartment, resolved)
  }
  return resolved
}

/** The care-date parameter of each type that has one (date parameters the registry indexes). */
export function careDateParams(registry: SearchParamRegistry, types: Iterable<string>): [string, string][] {
  const out: [string, string][] = []
  for (const type of types) {
    const code = CARE_DATE[type] ?? 'date'
    const def = registry.forType(type).byCode.get(code)
    if (def?.type === 'date' && def.evaluate) out.push([type, code])
  }
  return out
}
