import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Media from "../src/internal/policy/media.js"
import {
  base64,
  documentedImageMax,
  documentedImageTokens,
  gif,
  jpeg,
  pdf,
  png,
  smallImageModels,
  webp
} from "./media.js"

/** Files as ImageMagick 6.9 and cwebp 1.2 wrote them (`-strip`), base64. */
const written = {
  png3x2:
    "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACAQMAAACnuvRZAAAAA1BMVEX/AAAZ4gk3AAAADElEQVQI12NgYGAAAAAEAAEnNCcKAAAAAElFTkSuQmCC",
  gif5x4: "R0lGODlhBQAEAPAAAAAA/wAAACH5BAAAAAAALAAAAAAFAAQAAAIEhI+ZBQA7",
  jpeg7x6:
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1tdhbWGkJ6jq62rZ4C8ybqmx5moq6T/2wBDARweHigjKE4rK06kbl1upKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKT/wAARCAAGAAcDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AJ4AYD//2Q==",
  progressiveJpeg9x8:
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1tdhbWGkJ6jq62rZ4C8ybqmx5moq6T/2wBDARweHigjKE4rK06kbl1upKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKT/wgARCAAIAAkDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAVAQEBAAAAAAAAAAAAAAAAAAADBP/aAAwDAQACEAMQAAABnAz/AP/EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAQUCP//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQMBAT8Bf//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQIBAT8Bf//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEABj8CP//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAT8hP//aAAwDAQACAAMAAAAQB//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQMBAT8Qf//EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQIBAT8Qf//EABQQAQAAAAAAAAAAAAAAAAAAABD/2gAIAQEAAT8QP//Z",
  jpeg2x2:
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1tdhbWGkJ6jq62rZ4C8ybqmx5moq6T/wAALCAACAAIBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAABv/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AMv/Z",
  lossyWebp13x12: "UklGRjgAAABXRUJQVlA4ICwAAACQAQCdASoNAAwABABoJaACdLoAA5gA/us2/6E2Paiv/0JP/ibP+Js+AAAAAA==",
  losslessWebp15x14: "UklGRhwAAABXRUJQVlA4TA8AAAAvDkADAAcQ/Y/+ByKi/wEA",
  extendedWebp17x16:
    "UklGRlQAAABXRUJQVlA4WAoAAAAQAAAAEAAADwAAQUxQSAkAAAABBxAREYiI/gcAVlA4ICQAAACwAgCdASoRABAAPxFysFAsJqSisAgBgCIJaQAAeyAA/vBpgAA="
}

const sizeOf = (data: string) => Media.imageSize(atob(data))

describe("an image's size, from its header", () => {
  it("reads the files encoders write: PNG, GIF, JPEG (baseline, progressive), WebP (VP8, VP8L, VP8X)", () => {
    expect(sizeOf(written.png3x2)).toEqual({ width: 3, height: 2 })
    expect(sizeOf(written.gif5x4)).toEqual({ width: 5, height: 4 })
    expect(sizeOf(written.jpeg7x6)).toEqual({ width: 7, height: 6 })
    expect(sizeOf(written.progressiveJpeg9x8)).toEqual({ width: 9, height: 8 })
    expect(sizeOf(written.jpeg2x2)).toEqual({ width: 2, height: 2 })
    expect(sizeOf(written.lossyWebp13x12)).toEqual({ width: 13, height: 12 })
    expect(sizeOf(written.losslessWebp15x14)).toEqual({ width: 15, height: 14 })
    expect(sizeOf(written.extendedWebp17x16)).toEqual({ width: 17, height: 16 })
  })

  it("a JPEG's frame, not the thumbnail in its EXIF, even with its metadata past what is read first", () => {
    const jpeg2x2 = atob(written.jpeg2x2)
    const withThumbnail = `\xff\xd8\xff\xe1${String.fromCharCode(0, jpeg2x2.length + 8)}Exif\x00\x00${jpeg2x2}${atob(written.jpeg7x6).slice(2)}`
    expect(Media.imageSize(withThumbnail)).toEqual({ width: 7, height: 6 })
    expect(Media.imageSize(jpeg(4000, 3000, { thumbnail: [160, 120] }))).toEqual({ width: 4000, height: 3000 })
    // Five 64 kB metadata segments: the frame header is 320 kB in, past the first reads.
    const late = base64(jpeg(1200, 800, { metadataSegments: 5, progressive: true }))
    expect(Media.imageTokens("claude-sonnet-4-6", late)).toBe(
      Media.sizeTokens("claude-sonnet-4-6", { width: 1200, height: 800 })
    )
    expect(Media.imageTokens("claude-sonnet-4-6", late)).toBeLessThan(Media.imageCeilingTokens("claude-sonnet-4-6"))
    // Read again (kept), and a copy of it (an equal string, not the same one).
    expect(Media.imageTokens("claude-opus-4-7", late)).toBe(
      Media.sizeTokens("claude-opus-4-7", { width: 1200, height: 800 })
    )
    expect(Media.imageTokens("claude-opus-4-7", `${late} `.trimEnd())).toBe(Media.imageTokens("claude-opus-4-7", late))
  })

  it("standalone markers and fill bytes between segments are stepped over", () => {
    const file = atob(written.jpeg7x6)
    expect(Media.imageSize(`\xff\xd8\xff\xff\xff\xd0${file.slice(2)}`)).toEqual({ width: 7, height: 6 })
  })

  it("what is not a readable header gives no size, and the image its ceiling", () => {
    const cases = [
      "",
      "not an image",
      atob(written.png3x2).slice(0, 20), // cut inside IHDR
      `\x89PNG\r\n\x1a\n\x00\x00\x00\x04CgBI${"\x00".repeat(16)}`, // Apple's CgBI before IHDR
      "GIF89a\x05",
      `RIFF\x00\x00\x00\x00WEBPVP8 ${"\x00".repeat(20)}`, // no VP8 start code
      `RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x00${"\x00".repeat(8)}`, // no VP8L signature
      `\xff\xd8\xff\xd9${"\x00".repeat(10)}`, // SOI then EOI
      "\xff\xd8\x00\x00\x00\x00\x00\x00\x00\x00\x00", // no marker
      png(0, 10),
      jpeg(10, 0) // height from a later DNL: not known from the header
    ]
    for (const bytes of cases) expect(Media.imageSize(bytes), JSON.stringify(bytes)).toBeUndefined()
    expect(Media.imageSize(atob(written.jpeg7x6).slice(0, 100))).toBe("truncated")
    for (const data of ["%%%not base64", "AAA", base64(jpeg(50, 50)).slice(0, 40)]) {
      expect(Media.imageTokens("claude-haiku-4-5", data)).toBe(Media.imageCeilingTokens("claude-haiku-4-5"))
    }
  })

  const formats: Record<string, (width: number, height: number) => string> = {
    png,
    gif,
    jpeg: (w, h) => jpeg(w, h),
    progressive: (w, h) => jpeg(w, h, { progressive: true }),
    exif: (w, h) => jpeg(w, h, { thumbnail: [2, 3] }),
    VP8: (w, h) => webp(w, h, "VP8"),
    VP8L: (w, h) => webp(w, h, "VP8L"),
    VP8X: (w, h) => webp(w, h, "VP8X")
  }

  it.prop(
    "the sizes written in every format's header are read back",
    {
      width: fc.integer({ min: 1, max: 16_383 }),
      height: fc.integer({ min: 1, max: 16_383 }),
      format: fc.constantFrom(...Object.keys(formats))
    },
    ({ width, height, format }) => {
      expect(Media.imageSize(formats[format]?.(width, height) ?? "")).toEqual({ width, height })
    }
  )
})

describe("an image's tokens, by model", () => {
  const large = [
    "claude-opus-4-7",
    "claude-opus-4-8",
    "claude-opus-5",
    "claude-sonnet-5-5",
    "claude-opus-4-10",
    "claude-sonnet-4-7",
    "anthropic.claude-3-haiku",
    "my-model"
  ]

  it("~1,600 tokens (+5%) up to Opus 4.6, Sonnet 4.x, Haiku 4.5 and 3.x, aliases and snapshots included; ~5,000 (+5%) after, and for any other model", () => {
    const small = [
      ...smallImageModels,
      "claude-opus-4-0",
      "claude-opus-4-20250514",
      "claude-opus-4-1-20250805",
      "claude-sonnet-4-0",
      "claude-3-7-sonnet-latest",
      "claude-3-haiku-20240307"
    ]
    for (const model of small) expect(Media.imageCeilingTokens(model), model).toBe(1_680)
    for (const model of large) expect(Media.imageCeilingTokens(model), model).toBe(5_250)
    expect(Media.pdfPageTokens("claude-haiku-4-5")).toBe(1_680 + Media.pdfPageTextTokens)
  })

  it("a 1024 × 768 image: 37 × 28 patches, whatever the model, each ≈ 1.05 tokens, +5%", () => {
    for (const model of ["claude-sonnet-4-6", "claude-opus-4-7"]) {
      expect(Media.sizeTokens(model, { width: 1024, height: 768 })).toBe(Math.ceil(((37 * 28 * 784) / 750) * 1.05))
    }
  })

  it.prop(
    "the bound is at least what Anthropic documents, for every size, scaled down or not, and never past the ceiling",
    {
      width: fc.oneof(fc.integer({ min: 1, max: 8_000 }), fc.integer({ min: 1, max: 60 })),
      height: fc.oneof(fc.integer({ min: 1, max: 8_000 }), fc.integer({ min: 1, max: 60 })),
      model: fc.constantFrom(...smallImageModels, ...large)
    },
    ({ width, height, model }) => {
      const bound = Media.sizeTokens(model, { width, height })
      expect(bound).toBeGreaterThanOrEqual(documentedImageTokens(model, width, height))
      expect(bound).toBeLessThanOrEqual(Media.imageCeilingTokens(model))
      expect(Media.imageCeilingTokens(model)).toBeGreaterThanOrEqual(documentedImageMax(model))
    }
  )
})

describe("a PDF's pages", () => {
  const pages = (bytes: string) => Media.pdfPages(base64(bytes))

  it("counts the pages of a flat or nested page tree, written loosely or tightly", () => {
    expect(pages(pdf(1))).toBe(1)
    expect(pages(pdf(7))).toBe(7)
    expect(pages(pdf(25, { perNode: 4 }))).toBe(25)
    expect(pages(pdf(3, { compact: true }))).toBe(3)
  })

  it("pages with no /Type are counted by the page tree's /Count", () => {
    expect(pages(pdf(6, { untyped: true }))).toBe(6)
    expect(pages(pdf(9, { untyped: true, perNode: 2 }))).toBe(9)
  })

  it("refuses to count what may hide pages: object streams, escaped key names, no PDF header, no page", () => {
    expect(pages(pdf(4, { objectStream: true }))).toBeUndefined()
    expect(pages(pdf(4, { escaped: true }))).toBeUndefined()
    expect(pages(pdf(4).slice(1))).toBeUndefined()
    expect(pages("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")).toBeUndefined()
    expect(Media.pdfPages("%%% not base64")).toBeUndefined()
    expect(Media.pdfTokens("claude-haiku-4-5", base64(pdf(4, { objectStream: true })))).toBe(Number.POSITIVE_INFINITY)
  })

  it("text past the per-page ceiling is counted by the strings it is shown from, unless they are compressed", () => {
    const dense = (filter: string) =>
      base64(
        `%PDF-1.7\n1 0 obj\n<< /Type /Page${filter} >>\nendobj\nBT (${"x".repeat(9_000)}) Tj [(ab) 2 <4142>] TJ ET`
      )
    const image = Media.imageCeilingTokens("claude-haiku-4-5")
    expect(Media.pdfTokens("claude-haiku-4-5", dense(""))).toBe(image + 9_004)
    expect(Media.pdfTokens("claude-haiku-4-5", dense(" /Filter /FlateDecode"))).toBe(image + Media.pdfPageTextTokens)
  })

  it.prop(
    "pages × the per-page ceiling, whatever the tree",
    {
      count: fc.integer({ min: 1, max: 60 }),
      perNode: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
      compact: fc.boolean(),
      untyped: fc.boolean(),
      model: fc.constantFrom("claude-sonnet-4-6", "claude-opus-4-7")
    },
    ({ count, perNode, compact, untyped, model }) => {
      const data = base64(pdf(count, { compact, untyped, ...(perNode === undefined ? {} : { perNode }) }))
      expect(Media.pdfTokens(model, data)).toBe(count * Media.pdfPageTokens(model))
    },
    { fastCheck: { numRuns: 50 } }
  )
})

describe("what is kept of reads that decode much", () => {
  it("at most so many entries and so many characters of keys; the least recently used go first", () => {
    const memo = new Media.Memo<number>(3, 10)
    let reads = 0
    const read = (key: string) => {
      reads++
      return key.length
    }
    for (const key of ["aaa", "bbb", "ccc"]) memo.get(key, read)
    memo.get("aaa", read) // used again: "bbb" is now the oldest
    memo.get("dd", read) // 11 characters: "bbb" goes
    expect(reads).toBe(4)
    memo.get("aaa", read)
    memo.get("ccc", read)
    expect(reads).toBe(4)
    memo.get("bbb", read)
    expect(reads).toBe(5)
    memo.get("x".repeat(11), read) // longer than all that may be kept: read, not kept
    memo.get("x".repeat(11), read)
    expect(reads).toBe(7)
  })
})
