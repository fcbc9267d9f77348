import sharp from "sharp"
import { performance } from "node:perf_hooks"
const gen = async (w: number, h: number, q: number, sigma: number, out: string) => {
  const t = performance.now()
  const buf = Buffer.allocUnsafe(w * h * 3)
  // noise table: sum of 3 uniforms ≈ gaussian, scaled by sigma
  const N = 1 << 16
  const noise = new Float32Array(N)
  let s = 12345
  const rnd = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 4294967296 }
  for (let k = 0; k < N; k++) noise[k] = (rnd() + rnd() + rnd() - 1.5) * 2 * sigma
  const sinX = new Float32Array(w); for (let x = 0; x < w; x++) sinX[x] = 30 * Math.sin(x / 97)
  const sinY = new Float32Array(h); for (let y = 0; y < h; y++) sinY[y] = 40 * Math.sin(y / 41)
  const cx = w * 0.6, cy = h * 0.4, r2 = (Math.min(w, h) * 0.3) ** 2
  let i = 0
  let j = 0
  for (let y = 0; y < h; y++) {
    const dy2 = (y - cy) ** 2
    for (let x = 0; x < w; x++) {
      let r: number, g: number, b: number
      if ((x - cx) ** 2 + dy2 < r2) { r = 220 - 60 * y / h; g = 180; b = 90 + sinY[y]! }
      else { r = 60 + 150 * x / w; g = 40 + 120 * y / h + sinX[x]!; b = 180 - 120 * (x + y) / (w + h) }
      const n = noise[(j = (j * 1103515245 + 12345) >>> 0) >>> 16]!
      const v0 = r + n, v1 = g + n + noise[(j + 7919) & 0xffff]! * 0.5, v2 = b + n
      buf[i++] = v0 < 0 ? 0 : v0 > 255 ? 255 : v0
      buf[i++] = v1 < 0 ? 0 : v1 > 255 ? 255 : v1
      buf[i++] = v2 < 0 ? 0 : v2 > 255 ? 255 : v2
    }
  }
  const info = await sharp(buf, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: q }).toFile(out)
  console.log(out, w, h, q, sigma, info.size, (performance.now() - t).toFixed(0), "ms")
}
await gen(4000, 3000, 90, Number(process.argv[2] ?? 8), "/tmp/mbx/in.jpg")
await gen(5000, 4000, 95, Number(process.argv[3] ?? 8), "/tmp/mbx/up.jpg")
