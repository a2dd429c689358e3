/**
 * The search engine (https://hl7.org/fhir/R4/search.html): parse → plan → compile → execute.
 * Used by pg-repository.ts; the HTTP layer reaches it through Repository.search.
 */
export { parseSearchRequest, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type ParseOptions } from './parse.js'
export { planSearch, type SearchPlan } from './plan.js'
export { compileCountQuery, compileFilters, compilePageQuery } from './compile.js'
export { executeSearch, type SearchOutcome } from './execute.js'
export { encodeCursor, decodeCursor } from './paging.js'
export type { PageCursor, ParamValue, Prefix, SearchClause, SearchFilter, SearchRequest, SortSpec, TotalMode } from './types.js'
export { compartmentMembers } from './compartments.js'
