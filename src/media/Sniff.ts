/**
 * What an image really is, from its first bytes — never from its name or declared type.
 * Only the formats Aperture accepts are recognised; anything else is refused with 415.
 */
export type ImageType = "image/jpeg" | "image/png" | "image/webp" | "image/avif" | "image/gif"

export const SNIFF_BYTES = 32

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0))

export const sniffImage = (bytes: Uint8Array): ImageType | undefined => {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg"
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b)) return "image/png"
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return "image/gif"
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WEBP")) return "image/webp"
  // ISO-BMFF: size(4) "ftyp" major-brand(4) minor(4) compatible-brands…
  if (ascii(bytes, 4, "ftyp")) {
    const size = Math.min(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0, bytes.length)
    for (let at = 8; at + 4 <= size; at += 4) {
      if (at === 12) continue // minor version, not a brand
      if (ascii(bytes, at, "avif") || ascii(bytes, at, "avis")) return "image/avif"
    }
  }
  return undefined
}
