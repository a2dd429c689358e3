import type { OperationDescriptor, OperationLevel } from './types.js'
import { validateOperation } from './validate.js'

/** Every operation the server offers; routes and the CapabilityStatement both read this list. */
export const OPERATIONS: readonly OperationDescriptor[] = [validateOperation]

export function findOperation(code: string, level: OperationLevel, resourceType?: string): OperationDescriptor | undefined {
  return OPERATIONS.find(
    (op) => op.code === code && op.levels.includes(level) && (!resourceType || !op.resourceTypes || op.resourceTypes.includes(resourceType)),
  )
}
