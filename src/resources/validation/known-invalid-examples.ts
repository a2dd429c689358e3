/**
 * R4 spec examples (file names in shared/data/fhir-examples/r4-core, without `.json`) that this
 * validator rejects on purpose. The test suite asserts each of them is rejected.
 */
export const KNOWN_INVALID_R4_EXAMPLES: readonly string[] = Object.freeze([
  // base64Binary with line breaks: "Invalid base64Binary format" (@medplum/core)
  'Binary-example',
  'Media-example',
  'DiagnosticReport-gingival-mass',
  // Questionnaire.item without the mandatory linkId
  'Questionnaire-qs1',
  // invariant ras-2 (probability decimal <= 100) evaluated on a non-decimal value
  'RiskAssessment-breastcancer-risk',
  'RiskAssessment-prognosis',
])
