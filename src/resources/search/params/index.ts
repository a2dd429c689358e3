import type { SearchParamType } from '../../indexing/registry.js'
import { dateParam } from './date.js'
import { nearParam } from './near.js'
import { numberParam } from './number.js'
import type { ParamType } from './param-type.js'
import { quantityParam } from './quantity.js'
import { referenceParam } from './reference.js'
import { stringParam } from './string.js'
import { tokenParam } from './token.js'
import { uriParam } from './uri.js'

export type { IndexTable, ParamType, ValueContext } from './param-type.js'

/** One handler per parameter type; composite is assembled from its components' handlers (compile.ts). */
export const PARAM_TYPES: Partial<Record<SearchParamType, ParamType>> = {
  string: stringParam as ParamType,
  token: tokenParam as ParamType,
  date: dateParam as ParamType,
  number: numberParam as ParamType,
  quantity: quantityParam as ParamType,
  reference: referenceParam as ParamType,
  uri: uriParam as ParamType,
  // The only special parameter with index rows: Location `near` (the registry compiles no other).
  special: nearParam as ParamType,
}
