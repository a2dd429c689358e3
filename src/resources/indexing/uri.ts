import type { TypedValue } from '@medplum/core'
import { clip } from './normalize.js'
import type { IndexRows } from './rows.js'

/** uri parameters (https://hl7.org/fhir/R4/search.html#uri): the value as written (case-sensitive). */
export function indexUriValue(rows: IndexRows, param: string, ord: number, { value }: TypedValue, options: { sortable: boolean }) {
  if (typeof value !== 'string' || value === '') return
  const text = clip(value)
  rows.addUri(param, ord, text)
  if (options.sortable) rows.addSortKey(param, text, text)
}
