import { IndexRows } from './rows.js'
import type { SearchParamDef } from './search-param-def.js'

/**
 * The rows a union alias (union-alias.ts) still writes, given `index`, which writes all its rows as
 * a plain parameter would, into scratch rows:
 * - for an alias of the rows of one target type (`patient` = `subject` rows with ref_type Patient),
 *   what those rows cannot answer: references a ref_type does not tell (an external
 *   `http://other/Patient/1`, `urn:uuid:` with `type: Patient`) and the `:identifier` token rows
 *   (the member's `subject:identifier` rows do not say which of them point at a Patient).
 * A local reference to a Patient, the usual case, writes nothing here: it is the member's row.
 */
export function addUnionAliasRows(rows: IndexRows, def: SearchParamDef, index: (scratch: IndexRows) => void): void {
  const scratch = new IndexRows()
  index(scratch)
  const { reference, token } = scratch
  const refType = def.union?.refType
  if (refType === undefined) return
  reference.param.forEach((param, i) => {
    if (reference.refType[i] !== refType) rows.addReference(param, reference.ord[i]!, reference.refType[i] ?? null, reference.refId[i]!)
  })
  token.param.forEach((param, i) => {
    rows.addToken(param, token.ord[i]!, {
      system: token.system[i] ?? null,
      code: token.code[i] ?? null,
      display: token.display[i] ?? null,
      typeSystem: token.typeSystem[i] ?? null,
      typeCode: token.typeCode[i] ?? null,
    })
  })
}
