/**
 * FHIR operations (https://hl7.org/fhir/R4/operations.html): one file per operation, each a
 * descriptor with a pure `run` that never sees Fastify.
 */
export type { OperationContext, OperationDescriptor, OperationLevel, OperationResult } from './types.js'
export { OPERATIONS, findOperation } from './registry.js'
