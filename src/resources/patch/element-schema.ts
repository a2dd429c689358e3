import { getElementDefinition, isDataTypeLoaded, type InternalSchemaElement } from '@medplum/core'

// FHIRPath Patch reads element cardinality (is `identifier` a list?) and choice types
// (`deceased` → `deceasedBoolean`) from @medplum/core's registry, loaded by base-schema.ts.

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
