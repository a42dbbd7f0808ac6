/**
 * Upper bounds for images and PDFs, read from their bytes. Anthropic scales an image down to the
 * model's largest size (1568 px on the long edge and ~1.15 MP, "~1,600 tokens", up to Claude Opus
 * 4.6, Sonnet 4.x, Haiku 4.5 and 3.x; 2576 px and 3.75 MP, ~5,000 tokens, from Opus 4.7), pads it
 * to whole 28 × 28 px patches and bills about width × height / 750 tokens (a patch ≈ 1.05); a PDF
 * page as its text plus an image of the page. Pure.
 */

interface Limits {
  /** The longest edge the model reads, in pixels. */
  readonly edge: number
  /** The most pixels it reads: its documented most tokens × 750. */
  readonly pixels: number
  /** The most tokens one image can be billed, with `margin`. */
  readonly ceiling: number
}

/** The formula is approximate ("about"): what it gives is raised by this much. */
const margin = 1.05

const limits = (edge: number, tokens: number): Limits => ({
  edge,
  pixels: tokens * 750,
  ceiling: Math.ceil(tokens * margin)
})

const smallImages = limits(1568, 1_600)
const largeImages = limits(2576, 5_000)

/**
 * The models known to read images at the smaller size (their ids, aliases and dated snapshots):
 * every other model, unknown ones included, gets the larger ceiling, which never undercounts.
 */
const smallImageModels = /^claude-(?:3-.*|(?:opus-4(?:-[0156])?|sonnet-4(?:-[056])?|haiku-4-5)(?:-\d{8}|-latest)?)$/

const limitsOf = (model: string): Limits => (smallImageModels.test(model) ? smallImages : largeImages)

/** The most tokens one image can be billed on `model`, whatever its size. */
export const imageCeilingTokens = (model: string): number => limitsOf(model).ceiling

/**
 * Text a PDF page can add besides its image: a dense page of small print is ~3,000 tokens. This is
 * fleetguard's ceiling, not the provider's: a compressed page with more text would be undercounted,
 * which the provider's count (`countInputTokens`) avoids (an uncompressed PDF is counted by its strings).
 */
export const pdfPageTextTokens = 4_000

/** The most tokens one PDF page can be billed on `model`: an image of the page and its text. */
export const pdfPageTokens = (model: string): number => imageCeilingTokens(model) + pdfPageTextTokens

export interface Size {
  readonly width: number
  readonly height: number
}

/** What an image of `size` is billed at most on `model`: scaled down to its limits, padded to whole patches. */
export const sizeTokens = (model: string, size: Size): number => {
  const { edge, pixels, ceiling } = limitsOf(model)
  const { width, height } = size
  const scale = Math.min(1, edge / Math.max(width, height), Math.sqrt(pixels / (width * height)))
  const patches = Math.ceil(Math.ceil(width * scale) / 28) * Math.ceil(Math.ceil(height * scale) / 28)
  return Math.min(ceiling, Math.ceil(((patches * 28 * 28) / 750) * margin))
}

/** The most tokens an image can be billed: by its size when its header gives it, else the ceiling. */
export const imageTokens = (model: string, base64: string | undefined): number => {
  const size = base64 === undefined ? undefined : base64ImageSize(base64)
  return size === undefined ? imageCeilingTokens(model) : sizeTokens(model, size)
}

/** The most tokens a PDF can be billed: a per-page ceiling times its pages; infinite when they cannot be counted. */
export const pdfTokens = (model: string, base64: string): number => {
  const pdf = pdfs.get(base64, readPdf)
  if (pdf === undefined) return Number.POSITIVE_INFINITY
  // Text a PDF shows uncompressed is in its strings: more of it than the per-page ceiling is counted.
  return pdf.pages * imageCeilingTokens(model) + Math.max(pdf.pages * pdfPageTextTokens, pdf.shownBytes)
}

/** The first `bytes` bytes of base64 `data` (all of it past its length) as a byte string; empty when it is not base64. */
const decodePrefix = (data: string, bytes: number): string => {
  try {
    return atob(bytes >= (data.length / 4) * 3 ? data : data.slice(0, Math.ceil(bytes / 3) * 4))
  } catch {
    return ""
  }
}

/**
 * Results of reads that decode much of their data, by that data: an agent sends the same files
 * turn after turn. A key is the caller's own string, which this holds on to, so the keys held are
 * bounded in number and in length (base64 strings take a byte a character).
 */
export class Memo<A> {
  private readonly entries = new Map<string, A>()
  private chars = 0
  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number
  ) {}

  get(key: string, read: (key: string) => A): A {
    if (this.entries.has(key)) {
      const value = this.entries.get(key) as A
      // Most recently used last: the first key is the one to let go.
      this.entries.delete(key)
      this.entries.set(key, value)
      return value
    }
    const value = read(key)
    if (key.length <= this.maxChars) this.add(key, value)
    return value
  }

  private add(key: string, value: A): void {
    for (const [old] of this.entries) {
      if (this.entries.size < this.maxEntries && this.chars + key.length <= this.maxChars) break
      this.entries.delete(old)
      this.chars -= old.length
    }
    this.entries.set(key, value)
    this.chars += key.length
  }
}

const pdfs = new Memo<Pdf | undefined>(8, 32 * 1024 * 1024)
const jpegs = new Memo<Size | undefined>(16, 16 * 1024 * 1024)

/** What a header read decodes first: every format's size is within it, but a JPEG's after its metadata. */
const headerBytes = 4_096

/** An image's size from its base64 data: its header's first bytes, then on through a JPEG's segments. */
const base64ImageSize = (base64: string): Size | undefined => {
  const size = imageSize(decodePrefix(base64, headerBytes))
  if (size !== "truncated") return size
  // EXIF (with its thumbnail) and ICC profiles often take tens of kB; past 256 kB, the read is kept.
  const near = jpegPrefixSize(base64, headerBytes * 8, 262_144)
  return near === "truncated" ? jpegs.get(base64, farJpegSize) : near
}

/** A JPEG whose frame header is past 256 kB: read on to the end if need be, and kept (`jpegs`). */
const farJpegSize = (base64: string): Size | undefined => {
  const size = jpegPrefixSize(base64, 2_097_152, Number.POSITIVE_INFINITY)
  return size === "truncated" ? undefined : size
}

/** A JPEG's size from a prefix of `bytes`, read 8 times longer each time up to `upTo` until its frame header is in it. */
const jpegPrefixSize = (base64: string, bytes: number, upTo: number): Size | "truncated" | undefined => {
  for (; bytes <= upTo; bytes *= 8) {
    const prefix = decodePrefix(base64, bytes)
    const size = jpegSize(prefix)
    if (size !== "truncated") return size
    if (prefix.length < bytes) return undefined
  }
  return "truncated"
}

const u16be = (s: string, i: number) => (s.charCodeAt(i) << 8) | s.charCodeAt(i + 1)
const u16le = (s: string, i: number) => s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8)
const u24le = (s: string, i: number) => u16le(s, i) | (s.charCodeAt(i + 2) << 16)
const u32be = (s: string, i: number) => u16be(s, i) * 65_536 + u16be(s, i + 2)

const positive = (width: number, height: number): Size | undefined =>
  width > 0 && height > 0 ? { width, height } : undefined

/**
 * An image's size from the header of a PNG, GIF, WebP or JPEG (`bytes`, a byte string); undefined
 * when it cannot be read, "truncated" when a JPEG's frame header is past the bytes given.
 */
export const imageSize = (bytes: string): Size | "truncated" | undefined => {
  if (bytes.startsWith("\x89PNG\r\n\x1a\n")) {
    return bytes.slice(12, 16) === "IHDR" && bytes.length >= 24
      ? positive(u32be(bytes, 16), u32be(bytes, 20))
      : undefined
  }
  if (bytes.startsWith("GIF87a") || bytes.startsWith("GIF89a"))
    return bytes.length >= 10 ? positive(u16le(bytes, 6), u16le(bytes, 8)) : undefined
  if (bytes.startsWith("RIFF") && bytes.slice(8, 12) === "WEBP") return webpSize(bytes)
  if (bytes.startsWith("\xff\xd8")) return jpegSize(bytes)
  return undefined
}

/** The canvas of an extended WebP, or the frame of a simple lossless (VP8L) or lossy (VP8) one. */
const webpSize = (bytes: string): Size | undefined => {
  const chunk = bytes.slice(12, 16)
  if (chunk === "VP8X" && bytes.length >= 30) return positive(u24le(bytes, 24) + 1, u24le(bytes, 27) + 1)
  if (chunk === "VP8L" && bytes.length >= 25 && bytes.charCodeAt(20) === 0x2f) {
    const bits = (u16le(bytes, 21) | (u16le(bytes, 23) << 16)) >>> 0
    return positive((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1)
  }
  if (chunk === "VP8 " && bytes.length >= 30 && bytes.slice(23, 26) === "\x9d\x01\x2a")
    return positive(u16le(bytes, 26) & 0x3fff, u16le(bytes, 28) & 0x3fff)
  return undefined
}

/**
 * The size in a JPEG's first frame header (SOF0–SOF15 but DHT, JPG and DAC: baseline,
 * progressive, lossless…), walking the segments before it (APPn, DQT…) by their lengths, so that
 * a thumbnail inside EXIF is never taken for the image.
 */
const jpegSize = (bytes: string): Size | "truncated" | undefined => {
  let i = 2
  while (i + 9 <= bytes.length) {
    if (bytes.charCodeAt(i) !== 0xff) return undefined
    const marker = bytes.charCodeAt(i + 1)
    if (marker === 0xff) {
      i++ // a fill byte
      continue
    }
    // TEM and RST0–7 stand alone; SOI again or EOI before a frame: not an image.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2
      continue
    }
    if (marker === 0xd8 || marker === 0xd9 || marker === 0x00) return undefined
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isFrame) return positive(u16be(bytes, i + 7), u16be(bytes, i + 5))
    const length = u16be(bytes, i + 2)
    if (length < 2) return undefined
    i += 2 + length
  }
  return "truncated"
}

/** PDF whitespace (NUL included) and comments, which may stand between a key and its value. */
const gap = "(?:[\\0\\t\\n\\f\\r ]|%[^\\r\\n]*[\\r\\n])*"
/** A name ends at whitespace or a delimiter: `/Page` is not `/Pages`. */
const nameEnd = "(?![^\\0\\t\\n\\f\\r ()<>\\[\\]{}/%])"
const pageObject = new RegExp(`/Type${gap}/Page${nameEnd}`, "g")
const pagesNode = new RegExp(`/Type${gap}/Pages${nameEnd}`, "g")
const count = new RegExp(`/Count${gap}(\\d+)`, "g")
/** A name written with `#xx` escapes, which may spell one of the keys read here. */
const escapedName = /\/[^\0\t\n\f\r ()<>[\]{}/%]*#[0-9A-Fa-f]{2}[^\0\t\n\f\r ()<>[\]{}/%]*/g
const keyNames = new Set(["/Type", "/Page", "/Pages", "/Count", "/Kids", "/ObjStm"])

const unescaped = (name: string) =>
  name.replace(/#([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))

/** The largest `/Count` of a page-tree node: the root's is the pages a reader finds, `/Type` or not. */
const treeCount = (text: string): number => {
  let most = 0
  for (const node of text.matchAll(pagesNode)) {
    const start = text.lastIndexOf("obj", node.index)
    const end = text.indexOf("endobj", node.index)
    for (const found of text.slice(start, end < 0 ? undefined : end).matchAll(count))
      most = Math.max(most, Number(found[1]))
  }
  return most
}

interface Pdf {
  readonly pages: number
  /** The bytes of its strings when nothing in it is compressed (the most text it can show), else 0. */
  readonly shownBytes: number
}

/**
 * How many pages a PDF has at most: the more of its `/Type /Page` objects and its page tree's
 * count. Undefined when that cannot be trusted: not a PDF, no page seen, object streams
 * (`/ObjStm`, which hold objects compressed, pages among them), or a key name written escaped.
 */
export const pdfPages = (base64: string): number | undefined => pdfs.get(base64, readPdf)?.pages

const readPdf = (base64: string): Pdf | undefined => {
  const text = decodePrefix(base64, Number.POSITIVE_INFINITY)
  if (!text.startsWith("%PDF-") || text.includes("/ObjStm")) return undefined
  for (const [name] of text.matchAll(escapedName)) if (keyNames.has(unescaped(name))) return undefined
  const pages = Math.max(text.match(pageObject)?.length ?? 0, treeCount(text))
  if (pages === 0) return undefined
  return { pages, shownBytes: text.includes("/Filter") ? 0 : stringBytes(text) }
}

/**
 * The bytes of a PDF's strings: literal ones `(…)` (nested parentheses, `\` escapes) and hex ones
 * `<…>` (two digits a byte). Read over the whole file, streams included: a parenthesis in data
 * counts more, never less.
 */
const stringBytes = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x28) {
      let depth = 1
      for (i++; i < text.length && depth > 0; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x28) depth++
        else if (d === 0x29) depth--
        if (depth > 0) bytes++
      }
      i-- // at the closing parenthesis: the next string may start right after it
    } else if (c === 0x3c && text.charCodeAt(i + 1) !== 0x3c) {
      const end = text.indexOf(">", i)
      bytes += Math.ceil(((end < 0 ? text.length : end) - i - 1) / 2)
      i = end < 0 ? text.length : end
    } else if (c === 0x3c) i++
  }
  return bytes
}
