/**
 * Images and PDFs for the tests, written as their encoders write them (headers and structure real,
 * pixel data left out), as byte strings (a character a byte) and base64; and what Anthropic
 * documents they are billed, to hold the bound against.
 */
import { crc32 } from "node:zlib"

const u16be = (n: number) => String.fromCharCode((n >>> 8) & 255, n & 255)
const u32be = (n: number) => u16be(Math.floor(n / 65_536)) + u16be(n % 65_536)
const u16le = (n: number) => String.fromCharCode(n & 255, (n >>> 8) & 255)
const u24le = (n: number) => u16le(n & 0xffff) + String.fromCharCode((n >>> 16) & 255)
const u32le = (n: number) => u16le(n & 0xffff) + u16le((n >>> 16) & 0xffff)

export const base64 = (bytes: string): string => btoa(bytes)

const pngChunk = (type: string, data: string) =>
  u32be(data.length) + type + data + u32be(crc32(Buffer.from(type + data, "latin1")))

/** A PNG: signature, IHDR (8-bit RGB), an empty IDAT, IEND. */
export const png = (width: number, height: number): string =>
  "\x89PNG\r\n\x1a\n" +
  pngChunk("IHDR", `${u32be(width)}${u32be(height)}\x08\x02\x00\x00\x00`) +
  pngChunk("IDAT", "") +
  pngChunk("IEND", "")

/** A GIF89a: logical screen, one image descriptor, trailer. */
export const gif = (width: number, height: number): string =>
  `GIF89a${u16le(width)}${u16le(height)}\x00\x00\x00,\x00\x00\x00\x00${u16le(width)}${u16le(height)}\x00\x02\x02\x44\x01\x00;`

const segment = (marker: number, data: string) => `\xff${String.fromCharCode(marker)}${u16be(data.length + 2)}${data}`

export interface JpegOptions {
  readonly progressive?: boolean
  /** An EXIF segment holding a thumbnail (a JPEG of its own, with its own frame header) of this size. */
  readonly thumbnail?: readonly [number, number]
  /** Metadata segments (APP2, ICC-like) of 65,533 bytes before the frame header. */
  readonly metadataSegments?: number
}

/** A JPEG: SOI, JFIF, optional EXIF and metadata, DQT, the frame header (SOF0 or SOF2), DHT, SOS, EOI. */
export const jpeg = (width: number, height: number, options: JpegOptions = {}): string => {
  const jfif = segment(0xe0, "JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
  const exif = options.thumbnail === undefined ? "" : segment(0xe1, `Exif\x00\x00${jpeg(...options.thumbnail)}`)
  const metadata = segment(0xe2, `ICC_PROFILE\x00${"\x01".repeat(65_533 - 12)}`).repeat(options.metadataSegments ?? 0)
  const dqt = segment(0xdb, `\x00${"\x01".repeat(64)}`)
  const frame = segment(options.progressive ? 0xc2 : 0xc0, `\x08${u16be(height)}${u16be(width)}\x01\x01\x11\x00`)
  const dht = segment(0xc4, `\x00${"\x00".repeat(15)}\x01\x00`)
  const scan = segment(0xda, "\x01\x01\x00\x00\x3f\x00")
  return `\xff\xd8${jfif}${exif}${metadata}${dqt}${frame}${dht}${scan}\x00\xff\xd9`
}

const riff = (chunks: string) => `RIFF${u32le(4 + chunks.length)}WEBP${chunks}`
const webpChunk = (type: string, data: string) => type + u32le(data.length) + data + (data.length % 2 ? "\x00" : "")
const vp8 = (width: number, height: number) =>
  webpChunk("VP8 ", `\x90\x01\x00\x9d\x01\x2a${u16le(width)}${u16le(height)}\x00\x00`)

/** A WebP: lossy (VP8), lossless (VP8L) or extended (VP8X, its canvas over a VP8 frame). Edges up to 16,383 px. */
export const webp = (width: number, height: number, kind: "VP8" | "VP8L" | "VP8X"): string => {
  if (kind === "VP8") return riff(vp8(width, height))
  if (kind === "VP8L") {
    const bits = ((width - 1) | ((height - 1) << 14)) >>> 0
    return riff(webpChunk("VP8L", `\x2f${u32le(bits)}\x00`))
  }
  return riff(webpChunk("VP8X", `\x10\x00\x00\x00${u24le(width - 1)}${u24le(height - 1)}`) + vp8(width, height))
}

export interface PdfOptions {
  /** Pages under intermediate page-tree nodes of this many each (a flat tree without). */
  readonly perNode?: number
  /** `/Type/Page` with no space, and a comment between key and value. */
  readonly compact?: boolean
  /** Page dictionaries without `/Type` (readers find them through the tree and its count). */
  readonly untyped?: boolean
  /** The pages held in an object stream (`/Type /ObjStm`), as PDF 1.5 writers do. */
  readonly objectStream?: boolean
  /** The pages' `/Type` key written with a `#xx` escape. */
  readonly escaped?: boolean
}

/** A PDF of `pages` pages: catalog, page tree, pages, each with a content stream; cross-reference table and trailer. */
export const pdf = (pages: number, options: PdfOptions = {}): string => {
  const objects: Array<string> = []
  const add = (body: string) => objects.push(body)
  const type = options.escaped ? "/Typ#65" : "/Type"
  const pageType = options.untyped ? "" : options.compact ? `${type}%c\n/Page` : `${type} /Page`
  add("<< /Type /Catalog /Pages 2 0 R >>")
  add("") // the root, written once its kids are known
  const perNode = options.perNode ?? pages
  const nodes: Array<number> = []
  const pageIds: Array<number> = []
  for (let first = 0; first < pages; first += perNode) {
    const count = Math.min(perNode, pages - first)
    const parent = options.perNode === undefined ? 2 : objects.length + 1
    if (options.perNode !== undefined) add("")
    const kids: Array<number> = []
    for (let p = 0; p < count; p++) {
      add(`<< ${pageType} /Parent ${parent} 0 R /MediaBox [0 0 612 792] /Contents ${objects.length + 2} 0 R >>`)
      kids.push(objects.length)
      add("<< /Length 11 >>\nstream\nBT (p) Tj ET\nendstream")
    }
    pageIds.push(...kids)
    if (options.perNode !== undefined) {
      objects[parent - 1] =
        `<< /Type /Pages /Parent 2 0 R /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${count} >>`
      nodes.push(parent)
    }
  }
  const rootKids = options.perNode === undefined ? pageIds : nodes
  objects[1] = `<< /Type /Pages /Kids [${rootKids.map((k) => `${k} 0 R`).join(" ")}] /Count ${pages} >>`
  if (options.objectStream) {
    // The page dictionaries moved into one object stream (uncompressed: a filter is optional).
    const held = pageIds.map((id) => objects[id - 1] ?? "")
    for (const id of pageIds) objects[id - 1] = "null"
    const offsets = held.map((_, i) => `${pageIds[i]} ${i * 200}`).join(" ")
    const data = `${offsets}\n${held.map((page) => page.padEnd(200)).join("")}`
    add(
      `<< /Type /ObjStm /N ${held.length} /First ${offsets.length + 1} /Length ${data.length} >>\nstream\n${data}\nendstream`
    )
  }
  let text = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
  const offsets: Array<number> = []
  for (const [i, body] of objects.entries()) {
    offsets.push(text.length)
    text += `${i + 1} 0 obj\n${body}\nendobj\n`
  }
  const xref = text.length
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) text += `${String(offset).padStart(10, "0")} 00000 n \n`
  return `${text}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
}

/** Models that read images at the smaller size, by Anthropic's documentation; every other model at the larger. */
export const smallImageModels: ReadonlyArray<string> = [
  "claude-opus-4-6",
  "claude-opus-4-5",
  "claude-opus-4-1",
  "claude-opus-4",
  "claude-sonnet-4-6",
  "claude-sonnet-4-5",
  "claude-sonnet-4",
  "claude-haiku-4-5",
  "claude-3-7-sonnet",
  "claude-3-5-haiku"
]

const isSmall = (model: string) => smallImageModels.some((m) => model === m || model.startsWith(`${m}-2`))

/** The most tokens Anthropic documents for one image on `model`: ~1,600, or ~5,000 from Opus 4.7. */
export const documentedImageMax = (model: string): number => (isSmall(model) ? 1_600 : 5_000)

/**
 * What Anthropic documents an image of `width` × `height` is billed on `model`: scaled down to fit
 * (1568 px and 1.15 MP, or 2576 px and 3.75 MP), padded to 28 × 28 px patches, (w × h) / 750 of
 * the padded image (which is above a token a patch).
 */
export const documentedImageTokens = (model: string, width: number, height: number): number => {
  const [edge, pixels] = isSmall(model) ? [1568, 1_150_000] : [2576, 3_750_000]
  const scale = Math.min(1, edge / Math.max(width, height), Math.sqrt(pixels / (width * height)))
  const padded = (n: number) => Math.ceil(Math.round(n * scale) / 28) * 28
  return Math.ceil((padded(width) * padded(height)) / 750)
}

/** Anthropic's figure for a dense page's text: "1,500–3,000 tokens per page". */
export const documentedPageTextTokens = 3_000
