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
export type VariantName = keyof typeof POST_WIDTHS

export class ImageRejected extends Data.TaggedError("ImageRejected")<{ readonly reason: string }> {}
export class ImageFailed extends Data.TaggedError("ImageFailed")<{ readonly cause: unknown }> {
  override get message() {
    return `image processing failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
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
    catch: (cause) => new ImageFailed({ cause })
  }).pipe(
    Effect.flatMap((m) => {
      const width = m.autoOrient?.width ?? m.width ?? 0
      const height = m.autoOrient?.height ?? m.height ?? 0
      if (width === 0 || height === 0) return Effect.fail(new ImageRejected({ reason: "the image has no dimensions" }))
      if (width * height > maxPixels) {
        return Effect.fail(new ImageRejected({ reason: `the image is ${width}×${height}; at most ${maxPixels / 1e6} megapixels` }))
      }
      return Effect.succeed({ width, height, format: m.format })
    })
  )

const hex = (n: number) => n.toString(16).padStart(2, "0")

/** Renders a post (4 widths, aspect kept within bounds) or an avatar (square, 2 widths). */
export const render = (input: Uint8Array, options: { readonly kind: "post" | "avatar"; readonly maxPixels: number }) =>
  Effect.gen(function*() {
    const { width, height } = yield* inspect(input, options.maxPixels)
    const aspect = options.kind === "avatar" ? 1 : Math.min(MAX_ASPECT, Math.max(MIN_ASPECT, width / height))
    const widths = options.kind === "avatar" ? AVATAR_WIDTHS : POST_WIDTHS
    const largest = Math.max(...Object.values(widths))
    return yield* Effect.tryPromise({
      try: async (): Promise<Processed> => {
        // decode once: orient, crop to the aspect, and resize to the largest width (never enlarging)
        const base = await sharp(input, { limitInputPixels: options.maxPixels, failOn: "error", animated: false })
          .rotate()
          .resize({
            width: Math.min(largest, width),
            height: Math.round(Math.min(largest, width) / aspect),
            fit: "cover",
            position: "centre",
            withoutEnlargement: true
          })
          .removeAlpha()
          .raw()
          .toBuffer({ resolveWithObject: true })
        const raw = { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } }
        const renditions = await Promise.all(
          Object.entries(widths).map(async ([name, w]) => {
            const targetW = Math.min(w, base.info.width)
            const square = name === "thumbnail" || options.kind === "avatar"
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
