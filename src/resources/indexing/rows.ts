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

  private readonly seen = new Set<string>()

  private isNew(key: string): boolean {
    // One hash lookup instead of has() then add().
    const before = this.seen.size
    return this.seen.add(key).size !== before
  }

  // Each add pushes its columns one by one: a generic push over Object.keys(columns) was ~5% of
  // extraction, which runs on every create.
  addString(param: string, ord: number, value: string, exact: string) {
    if (!this.isNew(`s\0${param}\0${ord}\0${exact}`)) return
    const t = this.string
    t.param.push(param)
    t.ord.push(ord)
    t.value.push(value)
    t.exact.push(exact)
  }

  addToken(param: string, ord: number, t: { system: string | null; code: string | null; display: string | null; typeSystem?: string | null; typeCode?: string | null }) {
    const typeSystem = t.typeSystem ?? null
    const typeCode = t.typeCode ?? null
    if (!this.isNew(`t\0${param}\0${ord}\0${t.system}\0${t.code}\0${t.display}\0${typeSystem}\0${typeCode}`)) return
    const x = this.token
    x.param.push(param)
    x.ord.push(ord)
    x.system.push(t.system)
    x.code.push(t.code)
    x.display.push(t.display)
    x.typeSystem.push(typeSystem)
    x.typeCode.push(typeCode)
  }

  addReference(param: string, ord: number, refType: string | null, refId: string) {
    if (!this.isNew(`r\0${param}\0${ord}\0${refType}\0${refId}`)) return
    const t = this.reference
    t.param.push(param)
    t.ord.push(ord)
    t.refType.push(refType)
    t.refId.push(refId)
  }

  addDate(param: string, ord: number, low: string, high: string) {
    if (!this.isNew(`d\0${param}\0${ord}\0${low}\0${high}`)) return
    const t = this.date
    t.param.push(param)
    t.ord.push(ord)
    t.low.push(low)
    t.high.push(high)
  }

  addNumber(param: string, ord: number, low: string, high: string) {
    if (!this.isNew(`n\0${param}\0${ord}\0${low}\0${high}`)) return
    const t = this.number
    t.param.push(param)
    t.ord.push(ord)
    t.low.push(low)
    t.high.push(high)
  }

  addQuantity(param: string, ord: number, q: { low: string; high: string; system: string | null; code: string | null; unit: string | null }) {
    if (!this.isNew(`q\0${param}\0${ord}\0${q.low}\0${q.high}\0${q.system}\0${q.code}\0${q.unit}`)) return
    const t = this.quantity
    t.param.push(param)
    t.ord.push(ord)
    t.low.push(q.low)
    t.high.push(q.high)
    t.system.push(q.system)
    t.code.push(q.code)
    t.unit.push(q.unit)
  }

  addUri(param: string, ord: number, value: string) {
    if (!this.isNew(`u\0${param}\0${ord}\0${value}`)) return
    this.uri.param.push(param)
    this.uri.ord.push(ord)
    this.uri.value.push(value)
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
