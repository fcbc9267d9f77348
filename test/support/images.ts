/** Image fixtures made on the spot with Sharp, so nothing is downloaded or checked in. */
import sharp from "sharp"
import * as zlib from "node:zlib"

/**
 * A landscape JPEG whose left half is red and right half blue, stored sideways: EXIF orientation 6
 * says "rotate 90° clockwise to view", so upright it is portrait with red on top. It carries GPS.
 */
export const sidewaysJpegWithGps = async (width = 1600, height = 800) => {
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      const red = x < width / 2
      raw[i] = red ? 220 : 20
      raw[i + 1] = 20
      raw[i + 2] = red ? 20 : 220
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: "ApertureTestCam", Orientation: "6" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1", GPSLongitudeRef: "W", GPSLongitude: "0/1 7/1 0/1" }
    })
    .toBuffer()
}

export const plainPng = (width = 640, height = 480) =>
  sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer()

/** A JPEG cut in half: its header is fine, its pixels are not all there. */
export const truncatedJpeg = async () => {
  const full = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 50, b: 50 } } })
    .jpeg()
    .toBuffer()
  return full.subarray(0, Math.floor(full.length / 3))
}

const chunk = (type: string, data: Buffer) => {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, "ascii"), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(zlib.crc32(body) >>> 0)
  return Buffer.concat([length, body, crc])
}

/** A PNG whose header claims 50,000 × 50,000 pixels (2.5 gigapixels) with almost no data: a pixel bomb. */
export const pixelBombPng = () => {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(50_000, 0)
  ihdr.writeUInt32BE(50_000, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // truecolour
  const idat = zlib.deflateSync(Buffer.alloc(50_001))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0))
  ])
}

/** A multipart body with an image part and text fields, as a browser would send it. */
export const multipart = (image: Uint8Array, fields: Record<string, string> = {}, filename = "photo.jpg", type = "image/jpeg") => {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append("image", new Blob([new Uint8Array(image)], { type }), filename)
  return form
}
