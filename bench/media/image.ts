/**
 * Synthetic photographs for the media benchmark: smooth gradients, a sine ripple, a sharp-edged
 * disc and per-pixel (roughly Gaussian) sensor noise, encoded as JPEG by Sharp. Pure noise would
 * compress unrealistically badly and flat colour unrealistically well; this mix lands where
 * phone photos do (a 12 MP quality-90 frame is ~3.8 MB). Deterministic: the same arguments give
 * the same bytes with the same libvips/libjpeg.
 */
import sharp from "sharp"

export interface JpegSpec {
  readonly width: number
  readonly height: number
  readonly quality: number
  /** Standard deviation of the per-pixel noise, in 8-bit levels; more noise, bigger file. */
  readonly noise: number
}

export const makeJpeg = async (spec: JpegSpec, file: string): Promise<{ readonly bytes: number }> => {
  const { width: w, height: h } = spec
  const pixels = Buffer.allocUnsafe(w * h * 3)
  // xorshift32 fills a 64 Ki table of approximately normal values (sum of three uniforms)
  let s = 0x2f6b_1d35
  const uniform = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
  const TABLE = 1 << 16
  const noise = new Float32Array(TABLE)
  for (let k = 0; k < TABLE; k++) noise[k] = (uniform() + uniform() + uniform() - 1.5) * 2 * spec.noise
  const rippleX = new Float32Array(w)
  for (let x = 0; x < w; x++) rippleX[x] = 30 * Math.sin(x / 97)
  const rippleY = new Float32Array(h)
  for (let y = 0; y < h; y++) rippleY[y] = 40 * Math.sin(y / 41)
  const cx = w * 0.6
  const cy = h * 0.4
  const r2 = (Math.min(w, h) * 0.3) ** 2
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v)
  let i = 0
  let lcg = 12345
  for (let y = 0; y < h; y++) {
    const dy2 = (y - cy) ** 2
    for (let x = 0; x < w; x++) {
      let r: number
      let g: number
      let b: number
      if ((x - cx) ** 2 + dy2 < r2) {
        r = 220 - (60 * y) / h
        g = 180
        b = 90 + rippleY[y]!
      } else {
        r = 60 + (150 * x) / w
        g = 40 + (120 * y) / h + rippleX[x]!
        b = 180 - (120 * (x + y)) / (w + h)
      }
      lcg = (Math.imul(lcg, 1103515245) + 12345) >>> 0
      const n = noise[lcg >>> 16]!
      pixels[i++] = clamp(r + n)
      pixels[i++] = clamp(g + n + noise[(lcg + 7919) & 0xffff]! * 0.5)
      pixels[i++] = clamp(b + n)
    }
  }
  const info = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: spec.quality }).toFile(file)
  return { bytes: info.size }
}
