/**
 * Images and PDFs as the API bills them, for the test kit's counts: an image's real size from its
 * header, scaled down to the largest the model reads, at width × height / 750 tokens; a PDF page as
 * an image of the page at that largest size plus its text. Written apart from fleetguard's estimate
 * on purpose: the estimate is tested against these counts. Pure.
 */

/** The largest image a model reads: its long edge and its pixels. */
interface Largest {
  readonly edge: number
  readonly pixels: number
}

/** Up to Claude Opus 4.6, every Sonnet 4.x, Haiku 4.5 and the 3.x models. */
const smaller: Largest = { edge: 1568, pixels: 1_150_000 }
/** Opus 4.7, 4.8, the 5 family, and any model this kit does not know. */
const larger: Largest = { edge: 2576, pixels: 3_750_000 }

const readsSmaller = /^claude-(?:3|sonnet-4|haiku-4|opus-4(?:$|-[0-6](?!\d)|-\d{8}))/

const largest = (model: string): Largest => (readsSmaller.test(model) ? smaller : larger)

const pixelTokens = (pixels: number): number => Math.ceil(pixels / 750)

/** The tokens of the largest image `model` reads: what an image by URL (which the kit cannot fetch) counts. */
export const largestImageTokens = (model: string): number => pixelTokens(largest(model).pixels)

/** The tokens of a `width` × `height` image on `model`, once scaled down to fit what it reads. */
export const imageTokens = (model: string, width: number, height: number): number => {
  const { edge, pixels } = largest(model)
  const scale = Math.min(1, edge / Math.max(width, height), Math.sqrt(pixels / (width * height)))
  return pixelTokens(Math.max(1, Math.floor(width * scale)) * Math.max(1, Math.floor(height * scale)))
}

export interface Image {
  readonly mediaType: "image/png" | "image/gif" | "image/webp" | "image/jpeg"
  readonly width: number
  readonly height: number
}

const isBase64 = (data: string): boolean => data.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(data)

/** The bytes of base64 `data` (its first `limit` bytes at most); undefined when it is not base64. */
export const decode = (data: string, limit = Number.POSITIVE_INFINITY): Uint8Array | undefined => {
  if (!isBase64(data)) return undefined
  return Buffer.from(Number.isFinite(limit) ? data.slice(0, Math.ceil(limit / 3) * 4) : data, "base64")
}

const be16 = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)
const le16 = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8)
const le24 = (b: Uint8Array, i: number) => le16(b, i) | ((b[i + 2] ?? 0) << 16)
const be32 = (b: Uint8Array, i: number) => be16(b, i) * 0x10000 + be16(b, i + 2)
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to))

const image = (mediaType: Image["mediaType"], width: number, height: number): Image | undefined =>
  width > 0 && height > 0 ? { mediaType, width, height } : undefined

/** WebP's three layouts: lossy (VP8), lossless (VP8L), extended (VP8X). */
const webp = (b: Uint8Array): Image | undefined => {
  switch (ascii(b, 12, 16)) {
    case "VP8 ":
      return image("image/webp", le16(b, 26) & 0x3fff, le16(b, 28) & 0x3fff)
    case "VP8L": {
      const bits = le16(b, 21) + le16(b, 23) * 0x10000
      return image("image/webp", (bits & 0x3fff) + 1, (Math.floor(bits / 0x4000) & 0x3fff) + 1)
    }
    case "VP8X":
      return image("image/webp", le24(b, 24) + 1, le24(b, 27) + 1)
    default:
      return undefined
  }
}

/** A JPEG's size, in its first start-of-frame segment (SOF0–SOF15 but DHT, JPG and DAC). */
const jpeg = (b: Uint8Array): Image | undefined => {
  for (let i = 2; i + 8 < b.length; ) {
    if (b[i] !== 0xff) return undefined
    const marker = b[i + 1] ?? 0
    if (marker === 0xff) i += 1
    else if (marker >= 0xd0 && marker <= 0xd9) i += 2
    else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return image("image/jpeg", be16(b, i + 7), be16(b, i + 5))
    } else i += 2 + be16(b, i + 2)
  }
  return undefined
}

/** What an image is and its size, from the header of a PNG, GIF, WebP or JPEG; undefined for anything else. */
export const readImage = (base64: string): Image | undefined => {
  const b = decode(base64, 65_536)
  if (b === undefined) return undefined
  if (ascii(b, 0, 8) === "\x89PNG\r\n\x1a\n" && ascii(b, 12, 16) === "IHDR") {
    return image("image/png", be32(b, 16), be32(b, 20))
  }
  if (ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a") return image("image/gif", le16(b, 6), le16(b, 8))
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return webp(b)
  if (b[0] === 0xff && b[1] === 0xd8) return jpeg(b)
  return undefined
}

export interface Pdf {
  /** Its `/Type /Page` objects. */
  readonly pages: number
  /** The bytes of its `(…) Tj` strings, as written. */
  readonly textBytes: number
}

/** A PDF's pages and text; undefined when it is not a PDF or no page is found in it. */
export const readPdf = (base64: string): Pdf | undefined => {
  const b = decode(base64)
  if (b === undefined) return undefined
  const text = Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1")
  if (!text.startsWith("%PDF-")) return undefined
  const pages = text.match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0
  let textBytes = 0
  for (const shown of text.matchAll(/\(((?:[^()\\]|\\.)*)\)\s*Tj/g)) textBytes += shown[1]?.length ?? 0
  return pages === 0 ? undefined : { pages, textBytes }
}
