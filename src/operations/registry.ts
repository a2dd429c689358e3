import type { OperationDescriptor, OperationLevel } from './types.js'
import { exportOperation } from './export/index.js'
import { importOperation } from './import/operation.js'
import { validateOperation } from './validate.js'
import { reindexOperation } from './reindex.js'
import { encounterEverythingOperation, patientEverythingOperation } from './everything.js'

/** Every operation the server offers; routes and the CapabilityStatement both read this list. */
export const OPERATIONS: readonly OperationDescriptor[] = [validateOperation, exportOperation, patientEverythingOperation, encounterEverythingOperation, reindexOperation, importOperation]

export function findOperation(code: string, level: OperationLevel, resourceType?: string): OperationDescriptor | undefined {
  return OPERATIONS.find(
    (op) => op.code === code && op.levels.includes(level) && (!resourceType || !op.resourceTypes || op.resourceTypes.includes(resourceType)),
  )
}
