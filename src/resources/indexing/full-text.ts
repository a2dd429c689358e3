import type { Resource } from '@medplum/fhirtypes'
import { normalizeText } from './normalize.js'
import { TEXT_AND_CONTENT, type IndexRows } from './rows.js'

/** Longer "words" (base64, hashes, URLs cut at odd places) are not indexed. */
const MAX_WORD_LENGTH = 64
/** Distinct words indexed per resource and parameter: bounds the index rows of a huge resource. */
const MAX_WORDS = 2000
/**
 * Keys whose values are not prose a reader would search: base64 payloads (Attachment.data), ids,
 * meta (versionId, lastUpdated, profiles), code-system and canonical URLs, literal references. They
 * would multiply the index rows of every write (a Reference `Patient/123` → "patient", "123")
 * for words nobody looks for by `_content`; their parameters (`_id`, `subject`, `url`...) find them.
 */
const SKIPPED_KEYS = new Set(['data', 'id', 'meta', 'system', 'url', 'reference', 'fullUrl', 'profile', 'div', 'resourceType'])
/** Dates and instants: searched with date parameters, and noise as words (`2024`, `01t10`, `00z`). */
const DATE = /^\d{4}-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?$/

/**
 * The words of a text as `_text` / `_content` compare them (https://hl7.org/fhir/R4/search.html#text):
 * case- and accent-insensitive (normalizeText, as for string search), split at anything that is not a
 * letter or digit. The query side splits its value the same way, so `8867-4` finds `8867-4`.
 */
export function textWords(text: string): string[] {
  if (ASCII.test(text)) return asciiWords(text)
  return normalizeText(text)
    .split(SEPARATORS)
    .filter((w) => w.length > 0 && w.length <= MAX_WORD_LENGTH)
}

const ASCII = /^[\x00-\x7f]*$/
const SEPARATORS = /[^\p{L}\p{N}]+/u

/** Where a scan puts the words it finds; `false` stops the scan. */
interface WordSink {
  add(word: string): boolean
}

/** textWords of ASCII text as an array (the query side splits its values with textWords too). */
function asciiWords(text: string): string[] {
  const words: string[] = []
  scanAsciiWords(text, false, { add: (word) => words.push(word) > 0 })
  return words
}

/**
 * The words of ASCII text in one pass over its lower-cased characters (a-z and 0-9 are its only
 * letters and digits), handed to `sink` as found: no split, no intermediate array. With `markup`,
 * XHTML tags separate words as narrativeText's `<[^>]*>` does: from a `<` to the next `>`, and a
 * `<` never closed is a separator.
 */
function scanAsciiWords(text: string, markup: boolean, sink: WordSink): void {
  const lower = text.toLowerCase()
  let start = -1
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 32
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      if (start < 0) start = i
      continue
    }
    if (start >= 0) {
      if (i - start <= MAX_WORD_LENGTH && !sink.add(lower.slice(start, i))) return
      start = -1
    }
    if (markup && c === 60) {
      const end = lower.indexOf('>', i + 1)
      if (end >= 0) i = end
    }
  }
}

/** The narrative's distinct words among its first MAX_WORDS. */
class NarrativeWords implements WordSink {
  readonly words = new Set<string>()
  private seen = 0
  add(word: string): boolean {
    if (this.seen++ >= MAX_WORDS) return false
    this.words.add(word)
    return true
  }
}

/** The content's words the narrative lacks, until both hold MAX_WORDS. */
class ExtraWords implements WordSink {
  readonly words = new Set<string>()
  constructor(private readonly narrative: ReadonlySet<string>) {}
  add(word: string): boolean {
    if (this.narrative.size + this.words.size >= MAX_WORDS) return false
    if (!this.narrative.has(word)) this.words.add(word)
    return true
  }
}

/** Scans `text` (already stripped of markup unless `markup`) into `sink`, on the ASCII path when it can. */
function scanWords(text: string, markup: boolean, sink: WordSink): void {
  // Entities can decode to anything: only markup without them takes the one-pass path.
  if (ASCII.test(text) && !(markup && text.includes('&'))) return scanAsciiWords(text, markup, sink)
  for (const word of textWords(markup ? narrativeText(text) : text)) if (!sink.add(word)) return
}

/**
 * Full-text words of a resource, one search_text row per parameter: `_text` (the narrative,
 * `text.div` without its markup) and `_content` (every string of the resource, narrative included),
 * each the distinct normalised words separated by spaces. A word search is a GIN lookup of a
 * prefix (`'jose':*`) over their tsvector (migrations/0009_search_text.sql), on PostgreSQL and PGlite
 * alike: no `unaccent` (PGlite lacks it), the accents are stripped here.
 */
export function indexFullText(rows: IndexRows, resource: Resource): void {
  const div = (resource as { text?: { div?: unknown } }).text?.div
  const narrativeSink = new NarrativeWords()
  if (typeof div === 'string') scanWords(div, true, narrativeSink)
  const narrative = narrativeSink.words
  // Every string of the resource as one text (a space never joins two words): one normalisation and
  // one split instead of one per string, the bulk of this function's time on a typical resource.
  const extraSink = new ExtraWords(narrative)
  scanWords(collectStrings(resource, [], 0).join(' '), false, extraSink)
  const extra = extraSink.words
  // A narrative generated from the resource holds every word of it: one row then answers both
  // parameters, half the rows and GIN entries of a create.
  if (extra.size === 0 && narrative.size > 0) return rows.addText(TEXT_AND_CONTENT, [...narrative])
  rows.addText('_text', [...narrative])
  rows.addText('_content', [...narrative, ...extra])
}

/** The `param` values of the search_text rows that hold the words of `name`. */
export const textRowParams = (name: '_text' | '_content'): readonly string[] => [name, TEXT_AND_CONTENT]

function collectStrings(value: unknown, out: string[], depth: number): string[] {
  if (depth > 64) return out
  if (typeof value === 'string') {
    if (!DATE.test(value)) out.push(value)
  } else if (typeof value === 'number') out.push(String(value))
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1)
  else if (typeof value === 'object' && value !== null) {
    for (const key in value) {
      // The root's `text` is the narrative, already in the words; its status code is no prose.
      if (!SKIPPED_KEYS.has(key) && !(depth === 0 && key === 'text')) collectStrings((value as Record<string, unknown>)[key], out, depth + 1)
    }
  }
  return out
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

/** XHTML narrative → its text: tags become spaces, the common entities are decoded. */
function narrativeText(div: string): string {
  return div
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' '
      }
      return ENTITIES[name.toLowerCase()] ?? whole
    })
}
