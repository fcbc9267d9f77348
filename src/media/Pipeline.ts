/**
 * The Sharp pipeline. An image is checked against the pixel limit from its header alone, decoded
 * once, auto-oriented from EXIF, cropped (cover, centre) to an aspect ratio between 4:5 and
 * 1.91:1, resized once to the largest width, and the smaller widths are derived from that result.
 * Output is WebP with no metadata at all (Sharp drops EXIF, GPS included, unless asked to keep it).
 */
import { Data, Effect } from "effect"
import sharp from "sharp"

export const POST_WIDTHS = { large: 1080, medium: 640, small: 320, thumbnail: 150 } as const
export const AVATAR_WIDTHS = { medium: 320, thumbnail: 150 } as const
/** A story: the 9:16 cover crop and its thumbnail. */
export const STORY_WIDTHS = { large: 1080, thumbnail: 180 } as const
const STORY_ASPECT = 9 / 16
export type VariantName = keyof typeof POST_WIDTHS

/** The image itself is at fault: it fails the same way every time, so it is never retried. */
export class ImageRejected extends Data.TaggedError("ImageRejected")<{ readonly reason: string; readonly code?: RejectionCode }> {}
export class ImageFailed extends Data.TaggedError("ImageFailed")<{ readonly cause: unknown }> {
  override get message() {
    return `image processing failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/**
 * What a Sharp (libvips) error says about the image. An image that libvips cannot read, reads
 * as a format we do not take, or is over the pixel limit will fail the same way every time:
 * that is `ImageRejected`, permanent, failed on the first attempt. Anything else (out of memory,
 * a libvips bug, an unknown message) is `ImageFailed`, which the worker retries.
 *
 * The messages come from libvips' loaders and Sharp's own checks, e.g.
 * "Input buffer has corrupt header: VipsJpeg: premature end of JPEG image",
 * "VipsJpeg: premature end of JPEG image" (a truncated scan, header intact),
 * "pngload_buffer: end of stream", "webp: unable to parse image",
 * "gifload_buffer: Unexpected end of GIF source data", "heif: Invalid input: …",
 * "Input buffer contains unsupported image format", "Input image exceeds pixel limit".
 * Only errors from reading the input are classified; what fails afterwards (encoding our own
 * raw pixels) is never the image's fault.
 */
/** Why an image can never be read, as a short code (the HTTP layer puts it in `details.reason`). */
export type RejectionCode = "UnreadableImage" | "UnsupportedImage" | "ImageTooLarge"

const rules: ReadonlyArray<{ readonly test: RegExp; readonly code: RejectionCode; readonly reason: string }> = [
  { test: /exceeds pixel limit/i, code: "ImageTooLarge", reason: "the image has more pixels than allowed" },
  { test: /unsupported image format|not a known (?:file|image) format|is not in a known format/i, code: "UnsupportedImage", reason: "the image's format is not supported" },
  { test: /corrupt header/i, code: "UnreadableImage", reason: "the image's header is corrupt or incomplete" },
  {
    test: /premature end|end of stream|unexpected end|truncated|insufficient input|bad seek|unable to parse|not enough data|read error|out of data/i,
    code: "UnreadableImage",
    reason: "the image is truncated: its data ends before the picture does"
  },
  {
    // decoder complaints about the bytes themselves: bad markers, checksums, invalid streams
    test: /VipsJpeg|pngload|webp:|gifload|heif:|heifload|libspng|bogus|corrupt|invalid (?:input|image|data|png|jpeg)|crc error|decode|incorrect header/i,
    code: "UnreadableImage",
    reason: "the image's data cannot be decoded"
  }
]

const messageOf = (cause: unknown) => (cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "")

/** The permanent verdict on a Sharp error, if it is one. */
export const rejectionOf = (cause: unknown): { readonly code: RejectionCode; readonly reason: string } | undefined => {
  const message = messageOf(cause)
  const rule = rules.find((r) => r.test.test(message))
  if (rule === undefined) return undefined
  // libvips' first line names the loader and the fault; enough to tell an author what happened
  const first = message.split("\n")[0]!.trim().slice(0, 160)
  return { code: rule.code, reason: `${rule.reason} (${first})` }
}

/** A Sharp failure as the worker's error: permanent when the image itself is at fault. */
export const classifySharpError = (cause: unknown): ImageRejected | ImageFailed => {
  const rejection = rejectionOf(cause)
  return rejection === undefined ? new ImageFailed({ cause }) : new ImageRejected({ reason: rejection.reason, code: rejection.code })
}

export interface Rendition {
  readonly name: string
  readonly width: number
  readonly height: number
  readonly bytes: Uint8Array
}

export interface Processed {
  readonly width: number
  readonly height: number
  readonly renditions: ReadonlyArray<Rendition>
  readonly placeholder: string
  readonly dominantColor: string
}

const MIN_ASPECT = 4 / 5
const MAX_ASPECT = 1.91

/** Reads only the header: dimensions and type, so a pixel bomb is refused before any decoding. */
export const inspect = (input: Uint8Array, maxPixels: number) =>
  Effect.tryPromise({
    // metadata() reads the header only; Sharp's own pixel limit is lifted here so that ours decides
    try: () => sharp(input, { failOn: "none", limitInputPixels: false }).metadata(),
    catch: classifySharpError
  }).pipe(
    Effect.flatMap((m) => {
      const width = m.autoOrient?.width ?? m.width ?? 0
      const height = m.autoOrient?.height ?? m.height ?? 0
      if (width === 0 || height === 0) return Effect.fail(new ImageRejected({ reason: "the image has no dimensions", code: "UnreadableImage" }))
      if (width * height > maxPixels) {
        return Effect.fail(new ImageRejected({ reason: `the image is ${width}×${height}; at most ${maxPixels / 1e6} megapixels`, code: "ImageTooLarge" }))
      }
      return Effect.succeed({ width, height, format: m.format })
    })
  )

const hex = (n: number) => n.toString(16).padStart(2, "0")

/** Renders a post (4 widths, aspect kept within bounds) or an avatar (square, 2 widths). */
export const render = (input: Uint8Array, options: { readonly kind: "post" | "avatar" | "story"; readonly maxPixels: number }) =>
  Effect.gen(function*() {
    const { width, height } = yield* inspect(input, options.maxPixels)
    const aspect = options.kind === "avatar" ? 1 : options.kind === "story" ? STORY_ASPECT : Math.min(MAX_ASPECT, Math.max(MIN_ASPECT, width / height))
    const widths = options.kind === "avatar" ? AVATAR_WIDTHS : options.kind === "story" ? STORY_WIDTHS : POST_WIDTHS
    const largest = Math.max(...Object.values(widths))
    // never enlarged: a small original gives a story the widest 9:16 crop it has
    const baseWidth = options.kind === "story" ? Math.min(largest, width, Math.floor(height * aspect)) : Math.min(largest, width)
    // decode once: orient, crop to the aspect, and resize to the largest width (never enlarging)
    const base = yield* Effect.tryPromise({
      try: () =>
        sharp(input, { limitInputPixels: options.maxPixels, failOn: "error", animated: false })
          .rotate()
          .resize({
            width: baseWidth,
            height: Math.round(baseWidth / aspect),
            fit: "cover",
            position: "centre",
            withoutEnlargement: true
          })
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true }),
      catch: classifySharpError
    })
    return yield* Effect.tryPromise({
      try: async (): Promise<Processed> => {
        const raw = { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } }
        const renditions = await Promise.all(
          Object.entries(widths).map(async ([name, w]) => {
            const targetW = Math.min(w, base.info.width)
            const square = (name === "thumbnail" && options.kind === "post") || options.kind === "avatar"
            const targetH = square ? targetW : Math.round(targetW / aspect)
            const out = await sharp(base.data, raw)
              .resize({ width: targetW, height: targetH, fit: "cover", position: "centre" })
              .webp({ quality: name === "thumbnail" ? 70 : 80, effort: 4 })
              .toBuffer({ resolveWithObject: true })
            return { name, width: out.info.width, height: out.info.height, bytes: new Uint8Array(out.data) }
          })
        )
        const tiny = await sharp(base.data, raw).resize({ width: 16 }).blur(0.6).webp({ quality: 40 }).toBuffer()
        const { dominant } = await sharp(base.data, raw).stats()
        return {
          width: base.info.width,
          height: base.info.height,
          renditions,
          placeholder: `data:image/webp;base64,${tiny.toString("base64")}`,
          dominantColor: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`
        }
      },
      catch: (cause) => new ImageFailed({ cause })
    })
  })
