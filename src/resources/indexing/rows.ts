/**
 * Index rows of one resource, column-wise per table: the write statement passes each column as one
 * array parameter to `unnest`, so any number of rows costs one round trip (resource-store.ts).
 * `add*` methods drop exact duplicates (`Patient.name | Patient.name.family` often repeats a value).
 */
/** The `param` of a search_text row whose words are both the `_text` and the `_content` words (full-text.ts). */
export const TEXT_AND_CONTENT = '_text,_content'

export class IndexRows {
  readonly string = { param: [] as string[], ord: [] as number[], value: [] as string[], exact: [] as string[] }
  readonly token = {
    param: [] as string[],
    ord: [] as number[],
    system: [] as (string | null)[],
    code: [] as (string | null)[],
    display: [] as (string | null)[],
    typeSystem: [] as (string | null)[],
    typeCode: [] as (string | null)[],
  }
  readonly reference = { param: [] as string[], ord: [] as number[], refType: [] as (string | null)[], refId: [] as string[] }
  /** Dates as ISO text or '-infinity' / 'infinity' (PostgreSQL spellings). */
  readonly date = { param: [] as string[], ord: [] as number[], low: [] as string[], high: [] as string[] }
  /** Decimals as text, or '-Infinity' / 'Infinity'. */
  readonly number = { param: [] as string[], ord: [] as number[], low: [] as string[], high: [] as string[] }
  readonly quantity = {
    param: [] as string[],
    ord: [] as number[],
    low: [] as string[],
    high: [] as string[],
    system: [] as (string | null)[],
    code: [] as (string | null)[],
    unit: [] as (string | null)[],
  }
  readonly uri = { param: [] as string[], ord: [] as number[], value: [] as string[] }
  readonly sort = { param: [] as string[], lo: [] as string[], hi: [] as string[] }
  /** Full-text words per parameter (`_text`, `_content`): one row each, words separated by single spaces. */
  readonly text = { param: [] as string[], words: [] as string[] }

  /** Per table past LINEAR_DEDUP_ROWS rows: the keys of its rows, for the duplicate check. */
  private keys: Map<ValueField, Set<string>> | undefined

  /**
   * Pops the row just pushed onto `field`'s table when it repeats an earlier one. A resource's
   * table holds a few rows, so comparing their columns beats building a key string per row and
   * hashing it (a Set of keys was ~9% of extraction); a large table switches to keys so a resource
   * with thousands of rows stays linear.
   */
  private dropRepeat(field: ValueField): void {
    const table = this[field] as unknown as Columns
    if (!this.repeatsLast(field, table)) return
    for (const key in table) table[key]!.pop()
  }

  private repeatsLast(field: ValueField, table: Columns): boolean {
    const columns = DEDUP_COLUMNS[field]
    const last = table.param!.length - 1
    if (last < LINEAR_DEDUP_ROWS) {
      for (let i = 0; i < last; i++) if (sameRow(table, columns, i, last)) return true
      return false
    }
    this.keys ??= new Map()
    let keys = this.keys.get(field)
    if (!keys) {
      keys = new Set()
      for (let i = 0; i < last; i++) keys.add(rowKey(table, columns, i))
      this.keys.set(field, keys)
    }
    const before = keys.size
    return keys.add(rowKey(table, columns, last)).size === before
  }

  // Each add pushes its columns one by one: a generic push over Object.keys(columns) was ~5% of
  // extraction, which runs on every create.
  addString(param: string, ord: number, value: string, exact: string) {
    const t = this.string
    t.param.push(param)
    t.ord.push(ord)
    t.value.push(value)
    t.exact.push(exact)
    this.dropRepeat('string')
  }

  addToken(param: string, ord: number, t: { system: string | null; code: string | null; display: string | null; typeSystem?: string | null; typeCode?: string | null }) {
    const x = this.token
    x.param.push(param)
    x.ord.push(ord)
    x.system.push(t.system)
    x.code.push(t.code)
    x.display.push(t.display)
    x.typeSystem.push(t.typeSystem ?? null)
    x.typeCode.push(t.typeCode ?? null)
    this.dropRepeat('token')
  }

  addReference(param: string, ord: number, refType: string | null, refId: string) {
    const t = this.reference
    t.param.push(param)
    t.ord.push(ord)
    t.refType.push(refType)
    t.refId.push(refId)
    this.dropRepeat('reference')
  }

  addDate(param: string, ord: number, low: string, high: string) {
    const t = this.date
    t.param.push(param)
    t.ord.push(ord)
    t.low.push(low)
    t.high.push(high)
    this.dropRepeat('date')
  }

  addNumber(param: string, ord: number, low: string, high: string) {
    const t = this.number
    t.param.push(param)
    t.ord.push(ord)
    t.low.push(low)
    t.high.push(high)
    this.dropRepeat('number')
  }

  addQuantity(param: string, ord: number, q: { low: string; high: string; system: string | null; code: string | null; unit: string | null }) {
    const t = this.quantity
    t.param.push(param)
    t.ord.push(ord)
    t.low.push(q.low)
    t.high.push(q.high)
    t.system.push(q.system)
    t.code.push(q.code)
    t.unit.push(q.unit)
    this.dropRepeat('quantity')
  }

  addUri(param: string, ord: number, value: string) {
    const t = this.uri
    t.param.push(param)
    t.ord.push(ord)
    t.value.push(value)
    this.dropRepeat('uri')
  }

  /** The full-text words of `_text`, `_content` or both (normalised, no spaces inside a word). */
  addText(param: '_text' | '_content' | typeof TEXT_AND_CONTENT, words: readonly string[]) {
    if (!words.length) return
    this.text.param.push(param)
    this.text.words.push(words.join(' '))
  }

  /**
   * Appends `from`'s value rows (not its sort keys nor full-text words) with `prefix` before each
   * parameter and every `ord` set to `ord`: a contained resource's rows under its container's key
   * (contained.ts). They cannot repeat a row of this resource (the prefix differs), so no duplicate check.
   */
  appendPrefixed(from: IndexRows, prefix: string, ord: number) {
    for (const field of VALUE_FIELDS) {
      const source = from[field] as unknown as Record<string, unknown[]> & { param: string[] }
      const target = this[field] as unknown as Record<string, unknown[]>
      for (let i = 0; i < source.param.length; i++) {
        for (const key of Object.keys(target)) {
          target[key]!.push(key === 'param' ? prefix + source.param[i]! : key === 'ord' ? ord : source[key]![i])
        }
      }
    }
  }

  /** Widens the resource's sort range for `param` to include [lo, hi]. */
  addSortKey(param: string, lo: string, hi: string) {
    const i = this.sortIndex.get(param)
    if (i === undefined) {
      this.sortIndex.set(param, this.sort.param.length)
      this.sort.param.push(param)
      this.sort.lo.push(lo)
      this.sort.hi.push(hi)
      return
    }
    if (lo < this.sort.lo[i]!) this.sort.lo[i] = lo
    if (hi > this.sort.hi[i]!) this.sort.hi[i] = hi
  }

  private readonly sortIndex = new Map<string, number>()

  get count(): number {
    return (
      this.string.param.length +
      this.token.param.length +
      this.reference.param.length +
      this.date.param.length +
      this.number.param.length +
      this.quantity.param.length +
      this.uri.param.length +
      this.sort.param.length
    )
  }
}

const VALUE_FIELDS = ['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri'] as const
type ValueField = (typeof VALUE_FIELDS)[number]
type Columns = Record<string, unknown[]>

/** Up to this many rows a table's duplicate check compares columns; past it, keys in a Set. */
const LINEAR_DEDUP_ROWS = 32

/**
 * The columns that make two rows of a table the same row, the likeliest to differ first. A string
 * row's `value` is a function of its `exact`, so `exact` decides.
 */
const DEDUP_COLUMNS: Record<ValueField, readonly string[]> = {
  string: ['exact', 'param', 'ord'],
  token: ['code', 'param', 'system', 'display', 'ord', 'typeSystem', 'typeCode'],
  reference: ['refId', 'param', 'refType', 'ord'],
  date: ['low', 'high', 'param', 'ord'],
  number: ['low', 'high', 'param', 'ord'],
  quantity: ['low', 'param', 'code', 'system', 'high', 'unit', 'ord'],
  uri: ['value', 'param', 'ord'],
}

function sameRow(table: Columns, columns: readonly string[], i: number, j: number): boolean {
  for (const c of columns) {
    const column = table[c]!
    if (column[i] !== column[j]) return false
  }
  return true
}

/** A row's identity as one string (NUL never occurs in indexed text), null and '' kept apart. */
function rowKey(table: Columns, columns: readonly string[], i: number): string {
  let key = ''
  for (const c of columns) {
    const v = table[c]![i]
    key += v === null ? '\u0001' : `\u0002${String(v)}`
    key += '\0'
  }
  return key
}
