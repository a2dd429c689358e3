// The rule lives with the indexer, which decides from it whether to write a search_sort row; search
// reads it from there (indexing never imports search).
export { isSingleValuedDate } from '../indexing/single-valued-date.js'
