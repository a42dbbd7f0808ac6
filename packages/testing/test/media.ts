/** Images and PDFs of known sizes, as base64: just the headers the counts read. */

const bytes = (...parts: ReadonlyArray<string | ReadonlyArray<number>>): string =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p)))).toString(
    "base64"
  )
const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff]
const be32 = (n: number) => [...be16(Math.floor(n / 0x10000)), ...be16(n & 0xffff)]
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff]
const le24 = (n: number) => [...le16(n & 0xffff), (n >> 16) & 0xff]
const le32 = (n: number) => [...le16(n & 0xffff), ...le16(Math.floor(n / 0x10000))]

export const png = (width: number, height: number) =>
  bytes("\x89PNG\r\n\x1a\n", be32(13), "IHDR", be32(width), be32(height), [8, 6, 0, 0, 0], be32(0))

export const gif = (width: number, height: number) => bytes("GIF89a", le16(width), le16(height), [0xf7, 0, 0])

/** A baseline JPEG: SOI, an APP0 segment, then the frame header with the size. */
export const jpeg = (width: number, height: number) =>
  bytes(
    [0xff, 0xd8, 0xff, 0xe0],
    be16(16),
    "JFIF\0",
    [1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xc0],
    be16(17),
    [8],
    be16(height),
    be16(width),
    [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
  )

/** WebP in its extended (VP8X), lossless (VP8L) and lossy (VP8) layouts. */
export const webp = (layout: "VP8X" | "VP8L" | "VP8 ", width: number, height: number) => {
  const chunk =
    layout === "VP8X"
      ? bytes("VP8X", le32(10), [0, 0, 0, 0], le24(width - 1), le24(height - 1))
      : layout === "VP8L"
        ? bytes("VP8L", le32(5), [0x2f], le32(width - 1 + (height - 1) * 0x4000))
        : bytes("VP8 ", le32(10), [0, 0, 0, 0x9d, 0x01, 0x2a], le16(width), le16(height))
  const body = Buffer.from(chunk, "base64")
  return bytes("RIFF", le32(body.length + 4), "WEBP", [...body])
}

/** A PDF of `pages`, page i showing `texts[i]` with Tj. */
export const pdf = (texts: ReadonlyArray<string>) => {
  const pages = texts.map(
    (_, i) => `${3 + i} 0 obj << /Type /Page /Parent 2 0 R /Contents ${3 + texts.length + i} 0 R >> endobj`
  )
  const contents = texts.map(
    (text, i) => `${3 + texts.length + i} 0 obj << >> stream\nBT /F1 12 Tf 72 712 Td (${text}) Tj ET\nendstream endobj`
  )
  const kids = texts.map((_, i) => `${3 + i} 0 R`).join(" ")
  return Buffer.from(
    [
      "%PDF-1.4",
      "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
      `2 0 obj << /Type /Pages /Kids [${kids}] /Count ${texts.length} >> endobj`,
      ...pages,
      ...contents,
      "%%EOF"
    ].join("\n"),
    "latin1"
  ).toString("base64")
}
