/**
 * One measurement of the Aperture media pipeline, in a process of its own so that its peak RSS is
 * the pipeline's alone (run.ts starts one per measurement). It does what the media worker does for
 * a post, minus NATS and PostgreSQL: read the original from disk (the fs store's `readAll`),
 * `render(original, { kind: "post", maxPixels })` from src/media/Pipeline.ts, write the four WebP
 * renditions through a temporary file and a rename (the fs store's `putBytes`, four at once as
 * the worker does) — `count` times, `concurrency` jobs at a time (the worker's `Stream.mapEffect`
 * with MEDIA_CONCURRENCY).
 *
 * Argument: one JSON object (see `Args`). Prints one line `RESULT <json>` (see `ChildResult`).
 * run.ts also runs a compiled copy of this file and of Pipeline.ts (esbuild, packages left external)
 * with plain `node`, to show what `--import tsx` itself costs in memory.
 * Run by run.ts; by hand: `node --import tsx bench/media/worker-child.ts '{"input":"a.jpg","outDir":"/tmp/x","count":5,"concurrency":1}'`
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import sharp from "sharp"

export interface Args {
  readonly input: string
  readonly outDir: string
  readonly count: number
  readonly concurrency: number
  /** MEDIA_MAX_PIXELS; the config's default when absent. */
  readonly maxPixels?: number
  /**
   * libvips threads per Sharp pipeline. Absent: Sharp's own default, which is what production runs
   * (1 on glibc Linux without jemalloc, i.e. Debian and the node:20-bookworm-slim image).
   */
  readonly sharpThreads?: number
  /** Checkout whose src/media/Pipeline.ts is measured (default: this one). */
  readonly root?: string
  /** URL of an already compiled Pipeline module to measure instead (the run without tsx). */
  readonly pipeline?: string
}

export interface ChildResult {
  readonly images: number
  readonly concurrency: number
  readonly sharpThreads: number
  readonly seconds: number
  readonly imagesPerSec: number
  /** Per job: read, render, write; in completion order. */
  readonly jobMillis: ReadonlyArray<number>
  /** Process CPU (all threads) during the timed part, in cores. */
  readonly cores: number
  /** The whole machine's busy CPU during the timed part, in cores (others' work shows up here). */
  readonly machineCores: number | null
  /** VmRSS after loading modules, before any image work. */
  readonly baselineRssBytes: number
  /** VmHWM at the end: the kernel's peak resident set over the whole process lifetime. */
  readonly peakRssBytes: number
  /** Largest of the 10 ms samples of process.memoryUsage.rss() (a cross-check of VmHWM). */
  readonly sampledPeakRssBytes: number
  readonly finalRssBytes: number
  /** Renditions of one job: name, size and encoded bytes. */
  readonly renditions: ReadonlyArray<{ readonly name: string; readonly width: number; readonly height: number; readonly bytes: number }>
  readonly outputBytesPerImage: number
}

const DEFAULT_MAX_PIXELS = 40_000_000

/** Busy jiffies of the whole machine (first line of /proc/stat); null where /proc is missing. */
const machineBusyJiffies = (): number | null => {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal
    return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)
  } catch {
    return null
  }
}

const statusBytes = (field: "VmRSS" | "VmHWM"): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"))
  return m ? Number(m[1]) * 1024 : 0
}

const main = async () => {
  const args = JSON.parse(process.argv[2] ?? "{}") as Args
  const root = args.root ?? fileURLToPath(new URL("../..", import.meta.url))
  const pipelineUrl = args.pipeline ?? pathToFileURL(path.join(root, "src/media/Pipeline.ts")).href
  const pipeline = (await import(pipelineUrl)) as typeof import("../../src/media/Pipeline.ts")
  if (args.sharpThreads !== undefined) sharp.concurrency(args.sharpThreads)
  const maxPixels = args.maxPixels ?? DEFAULT_MAX_PIXELS
  await fs.mkdir(args.outDir, { recursive: true })

  let sampledPeak = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())
  }, 10)
  const baselineRssBytes = statusBytes("VmRSS")

  const job = (i: number) =>
    Effect.gen(function*() {
      // as the fs store's readAll: the file's bytes, copied into a plain Uint8Array
      const original = yield* Effect.promise(async () => new Uint8Array(await fs.readFile(args.input)))
      const result = yield* pipeline.render(original, { kind: "post", maxPixels })
      yield* Effect.forEach(result.renditions, (r) =>
        Effect.promise(async () => {
          const file = path.join(args.outDir, `${i}-w${r.width}.webp`)
          const temp = `${file}.part-${crypto.randomUUID()}`
          await fs.writeFile(temp, r.bytes)
          await fs.rename(temp, file)
        }), { concurrency: 4, discard: true })
      return result
    })

  // warm-up, not timed: module JIT, libvips start-up, the thread pool
  const first = await Effect.runPromise(job(-1))

  const jobMillis: Array<number> = []
  const cpu0 = process.cpuUsage()
  const m0 = machineBusyJiffies()
  const t0 = performance.now()
  await Effect.runPromise(Effect.forEach(
    Array.from({ length: args.count }, (_, i) => i),
    (i) =>
      Effect.suspend(() => {
        const started = performance.now()
        return job(i).pipe(Effect.tap(() => Effect.sync(() => jobMillis.push(performance.now() - started))))
      }),
    { concurrency: args.concurrency, discard: true }
  ))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const m1 = machineBusyJiffies()
  clearInterval(sampler)

  const result: ChildResult = {
    images: args.count,
    concurrency: args.concurrency,
    sharpThreads: sharp.concurrency(),
    seconds,
    imagesPerSec: args.count / seconds,
    jobMillis,
    cores: (cpu.user + cpu.system) / 1e6 / seconds,
    // USER_HZ = 100
    machineCores: m0 === null || m1 === null ? null : (m1 - m0) / 100 / seconds,
    baselineRssBytes,
    peakRssBytes: statusBytes("VmHWM"),
    sampledPeakRssBytes: sampledPeak,
    finalRssBytes: statusBytes("VmRSS"),
    renditions: first.renditions.map((r) => ({ name: r.name, width: r.width, height: r.height, bytes: r.bytes.byteLength })),
    outputBytesPerImage: first.renditions.reduce((n, r) => n + r.bytes.byteLength, 0)
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
