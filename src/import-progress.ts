/**
 * The CLI import's progress on stderr. On a terminal: one line redrawn at most every 100 ms with a
 * bar over the bytes read (compressed bytes for `.gz`), the current file, lines done and the rate.
 * Elsewhere (a pipe, a CI log): one line per finished file, so logs stay readable.
 */
export class ImportProgressBar {
  private readonly totalBytes: number
  private readBytes = 0
  private linesBefore = 0
  private linesInFile = 0
  private fileIndex = 0
  private fileName = ''
  private lastDraw = 0
  private readonly started = performance.now()

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly fileSizes: readonly number[],
  ) {
    this.totalBytes = fileSizes.reduce((a, b) => a + b, 0)
  }

  startFile(index: number, name: string) {
    this.fileIndex = index
    this.fileName = name
    this.linesInFile = 0
    this.draw(true)
  }

  addBytes(bytes: number) {
    this.readBytes += bytes
    this.draw(false)
  }

  update(linesInFile: number) {
    this.linesInFile = linesInFile
    this.draw(false)
  }

  endFile(report: { input: string; lines: number; created: number; updated: number; unchanged: number; failed: number }) {
    this.linesBefore += report.lines
    this.linesInFile = 0
    const counts = `${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed`
    if (this.out.isTTY) this.draw(true)
    else this.out.write(`[${this.fileIndex + 1}/${this.fileSizes.length}] ${report.input}: ${report.lines} lines: ${counts}\n`)
  }

  /** A message above the bar (a failure). */
  log(message: string) {
    if (this.out.isTTY) this.out.write(`\r\x1b[K${message}\n`)
    else this.out.write(`${message}\n`)
    this.draw(true)
  }

  finish(summary: string) {
    if (this.out.isTTY) this.out.write(`\r\x1b[K`)
    this.out.write(`${summary}\n`)
  }

  private draw(force: boolean) {
    if (!this.out.isTTY) return
    const now = performance.now()
    if (!force && now - this.lastDraw < 100) return
    this.lastDraw = now
    const fraction = this.totalBytes ? Math.min(1, this.readBytes / this.totalBytes) : 0
    const width = 24
    const filled = Math.round(fraction * width)
    const lines = this.linesBefore + this.linesInFile
    const rate = Math.round(lines / Math.max((now - this.started) / 1000, 1e-3))
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
      `file ${this.fileIndex + 1}/${this.fileSizes.length} ${this.fileName} | ${lines.toLocaleString('en')} lines ${rate.toLocaleString('en')}/s`
    this.out.write(`\r\x1b[K${text.slice(0, Math.max(20, (this.out.columns ?? 120) - 1))}`)
  }
}
