/**
 * Upper bounds for images and PDFs, read from their bytes. Anthropic bills an image about
 * width × height / 750 tokens after scaling it down to the model's largest size (1568 px on the long
 * edge and ~1.15 MP, "~1,600 tokens", up to Claude Opus 4.6; 2576 px and 3.75 MP, 5,000 tokens,
 * from Opus 4.7); a PDF page as its text plus an image of the page. Pure.
 */

/** Models that read images at the older, smaller size: every other model gets the larger ceiling. */
const smallImageModels = /^claude-(3-|opus-4$|opus-4-[0-6]|sonnet-4|haiku-4)/

/** The most tokens one image can be billed on `model`: the provider's figure, with a margin. */
export const imageCeilingTokens = (model: string): number => (smallImageModels.test(model) ? 1_700 : 5_200)

/** The formula is approximate ("about"): what it gives is raised by this much. */
const formulaMargin = 1.05

/**
 * Text a PDF page can add besides its image: a dense page of small print is ~3,000 tokens. This is
 * fleetguard's ceiling, not the provider's: a page with more text would be undercounted, which the
 * provider's count (`countInputTokens`) avoids.
 */
export const pdfPageTextTokens = 4_000

/** The most tokens an image can be billed: by its size when its header gives it, else the ceiling. */
export const imageTokens = (model: string, base64: string | undefined): number => {
  const ceiling = imageCeilingTokens(model)
  const size = base64 === undefined ? undefined : imageSize(decodePrefix(base64, 65_536))
  return size === undefined ? ceiling : Math.min(ceiling, Math.ceil(((size.width * size.height) / 750) * formulaMargin))
}

/** The most tokens a PDF can be billed: a per-page ceiling times its pages; infinite when they cannot be counted. */
export const pdfTokens = (model: string, base64: string): number => {
  const pages = pdfPages(base64)
  return pages === undefined ? Number.POSITIVE_INFINITY : pages * (imageCeilingTokens(model) + pdfPageTextTokens)
}

/** The first `bytes` bytes of base64 `data` as a byte string; empty when it is not base64. */
const decodePrefix = (data: string, bytes: number): string => {
  try {
    return atob(data.slice(0, Math.ceil(bytes / 3) * 4))
  } catch {
    return ""
  }
}

interface Size {
  readonly width: number
  readonly height: number
}

const u16be = (s: string, i: number) => (s.charCodeAt(i) << 8) | s.charCodeAt(i + 1)
const u16le = (s: string, i: number) => s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8)
const u24le = (s: string, i: number) => u16le(s, i) | (s.charCodeAt(i + 2) << 16)
const u32be = (s: string, i: number) => u16be(s, i) * 65_536 + u16be(s, i + 2)

const positive = (width: number, height: number): Size | undefined =>
  width > 0 && height > 0 ? { width, height } : undefined

/** An image's size from the header of a PNG, GIF, WebP or JPEG; undefined when it cannot be read. */
export const imageSize = (bytes: string): Size | undefined => {
  if (bytes.startsWith("\x89PNG\r\n\x1a\n") && bytes.length >= 24) return positive(u32be(bytes, 16), u32be(bytes, 20))
  if ((bytes.startsWith("GIF87a") || bytes.startsWith("GIF89a")) && bytes.length >= 10)
    return positive(u16le(bytes, 6), u16le(bytes, 8))
  if (bytes.startsWith("RIFF") && bytes.slice(8, 12) === "WEBP") return webpSize(bytes)
  if (bytes.startsWith("\xff\xd8")) return jpegSize(bytes)
  return undefined
}

const webpSize = (bytes: string): Size | undefined => {
  const chunk = bytes.slice(12, 16)
  if (chunk === "VP8X" && bytes.length >= 30) return positive(u24le(bytes, 24) + 1, u24le(bytes, 27) + 1)
  if (chunk === "VP8L" && bytes.length >= 25) {
    const bits = u16le(bytes, 21) | (u16le(bytes, 23) << 16)
    return positive((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1)
  }
  if (chunk === "VP8 " && bytes.length >= 30) return positive(u16le(bytes, 26) & 0x3fff, u16le(bytes, 28) & 0x3fff)
  return undefined
}

/** The size in the first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC). */
const jpegSize = (bytes: string): Size | undefined => {
  let i = 2
  while (i + 9 < bytes.length) {
    if (bytes.charCodeAt(i) !== 0xff) return undefined
    const marker = bytes.charCodeAt(i + 1)
    if (marker === 0xff) {
      i++
      continue
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isFrame) return positive(u16be(bytes, i + 7), u16be(bytes, i + 5))
    i += 2 + u16be(bytes, i + 2)
  }
  return undefined
}

/** The last PDFs counted: an agent sends the same document turn after turn. */
const counted = new Map<string, number | undefined>()

/**
 * How many pages a PDF has: its `/Type /Page` objects. Undefined when that cannot be trusted: not
 * a PDF, no page seen, or object streams (`/ObjStm`), which may hide pages compressed.
 */
export const pdfPages = (base64: string): number | undefined => {
  if (counted.has(base64)) return counted.get(base64)
  const bytes = decodePrefix(base64, Number.POSITIVE_INFINITY)
  const readable = bytes.startsWith("%PDF-") && !bytes.includes("/ObjStm")
  const pages = readable ? (bytes.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0) : 0
  const result = pages > 0 ? pages : undefined
  if (counted.size >= 8) counted.delete(counted.keys().next().value as string)
  counted.set(base64, result)
  return result
}
