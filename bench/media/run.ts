/**
 * Media benchmark, two parts.
 *
 * 1. Worker throughput against libvips' own CLI, same run, same input: a synthetic 12 MP JPEG
 *    (4000×3000, quality 90, ~3.8 MB; bench/media/image.ts) rendered to the four post WebPs
 *    (1080/640/320/150 wide) `BENCH_IMAGES` times, one job at a time and two at a time.
 *      Aperture   worker-child.ts, a process of its own per measurement (so its VmHWM is the
 *                 pipeline's alone): read original → `render` (src/media/Pipeline.ts) → write 4
 *                 files, as the media worker does minus NATS and PostgreSQL. Sharp's own thread
 *                 default, as in production. Two extra rows without goals: Sharp with one libvips
 *                 thread per core, and the same code compiled by esbuild and run by plain `node`
 *                 (what `--import tsx` costs in memory).
 *      libvips    `vipsthumbnail` from Debian's libvips-tools, in two shapes (both measured; the
 *                 faster one is the reference for the ratio, so the goal is judged against the CLI
 *                 at its best):
 *        per job  5 processes per image, the CLI doing exactly what the pipeline does:
 *                   vipsthumbnail in.jpg   --size 1080x810 --smartcrop centre -o base.v
 *                   vipsthumbnail base.v   --size WxH --smartcrop centre -o wW.webp[Q=80|70,effort=4,strip]  (×4)
 *                 One JPEG decode (with shrink-on-load, as Sharp) to an uncompressed `.v` file —
 *                 libvips' native format, mmapped back with no decode — which is the CLI's
 *                 equivalent of the pipeline's raw 1080 buffer; then each width is derived from it
 *                 and encoded with the same WebP settings (Q80, Q70 for the thumbnail, effort 4, no
 *                 metadata). Alternatives timed by hand on this machine were 10–20 % slower: four
 *                 vipsthumbnail calls each decoding the JPEG (4 decodes, each with shrink-on-load),
 *                 and deriving the smaller sizes from the 1080 WebP (3 extra WebP decodes, plus
 *                 generation loss). Spawned from Node, as a worker shelling out would; process
 *                 creation costs CPU that neither the children's rusage nor ours fully shows
 *                 (~0.3 cores at concurrency 2, listed in the run's CPU warnings).
 *        batched  the same 5 steps, but each step is one vipsthumbnail process over all of a lane's
 *                 images (vipsthumbnail takes many files), so process start-up is paid 5 times per
 *                 lane instead of 5 times per image: the most the CLI can do.
 *      The CLI does not compute the pipeline's blurred placeholder or dominant colour (a 16 px
 *      WebP and the stats of the 1080 base): Aperture does slightly more work per image.
 *      Peak RSS: Aperture's VmHWM per process; the CLI's largest `ru_maxrss` of any of its
 *      processes (GNU time's %M): per job for "per job", per lane for "batched".
 * 2. `POST /api/v1/posts` acknowledgement latency: the full server (HTTP_TRANSPORT=uws, ROLES=api,
 *    so no media worker competes for the CPU), one signed-up user, multipart uploads of a
 *    JPEG (5000×4000, quality 95, ~5.0 MB) from 4 and from 8 concurrent clients (and from 1, without a
 *    goal: one upload's service time without queueing) over node:http, the body
 *    written to the socket for every request (Content-Length, no chunking). Latency is from the
 *    request's first byte to the response's last; throughput is body bytes over wall time. Every
 *    answer must be 202 `{postId, status: "processing"}`, and every stored original must have the
 *    upload's exact size.
 *
 * Measurements rotate within each of `BENCH_ROUNDS` rounds; the table shows medians (peak RSS: the
 * largest over rounds). Also recorded per measurement: CPU of the measured processes and of the
 * whole machine (a busy machine makes every number here meaningless — the run warns).
 *
 * Env: BENCH_IMAGES (20), BENCH_ROUNDS (3), BENCH_UPLOADS per measurement (100), BENCH_SERVER_ROOT
 * (measure another checkout's src/, e.g. a `git archive` export with node_modules linked),
 * BENCH_ONLY=jobs|uploads (one part only), BENCH_SERVER_CPU_PROFILE=<dir> (a CPU profile of the
 * server over the upload part, written there at its exit; see cpu-profile.mjs).
 * Run: `npx tsx bench/media/run.ts`. Writes bench/media/results.json. Needs PostgreSQL, Redis and
 * NATS on loopback (as the server does), and installs libvips-tools with apt-get when missing.
 */
import { Effect } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import sharp from "sharp"
import { machineInfo, printTable, type Row } from "../accounts/report.ts"
import { REPO_ROOT, request, type Server, ServerError, sleep, startServer, stopServer } from "../accounts/server.ts"
import { render } from "../../src/media/Pipeline.ts"
import { makeJpeg } from "./image.ts"
import type { Args as ChildArgs, ChildResult } from "./worker-child.ts"
import { baseServerEnv, cpuProfileEnv, envInt, SERVER_ROOT } from "../support/env.ts"
import { prefixesOf, prefixLeftovers, removeLeftovers, runBenchmark } from "../support/lifecycle.ts"
import { dropDatabase } from "../support/pgdb.ts"
import { CLOCK_TICKS_PER_SECOND, machineJiffies, processCpuSeconds } from "../support/proc.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  images: envInt("BENCH_IMAGES", 20),
  rounds: envInt("BENCH_ROUNDS", 3),
  uploads: envInt("BENCH_UPLOADS", 100),
  uploadWarmup: 10,
  // 1 client has no goal: it shows the service time of one upload without queueing behind others
  uploadConcurrencies: [1, 4, 8] as ReadonlyArray<number>,
  uploadGoalConcurrencies: [4, 8] as ReadonlyArray<number>,
  jobConcurrencies: [1, 2] as ReadonlyArray<number>,
  photo: { width: 4000, height: 3000, quality: 90, noise: 8 },
  upload: { width: 5000, height: 4000, quality: 95, noise: 2.6 },
  maxUploadBytes: 10 * 1024 * 1024,
  // MEDIA_MAX_PIXELS' default
  maxPixels: 40_000_000,
  webp: { quality: 80, thumbnailQuality: 70, effort: 4 },
  uploadTimeoutMillis: 30_000,
  pauseBetweenMillis: 500
} as const

const goals = { ratio: 0.8, rssPerJobMiB: 300, ackP99Ms: 100 } as const

/** `jobs` or `uploads` runs one part only (while working on it); anything else runs both. */
const only = process.env["BENCH_ONLY"] === "jobs" || process.env["BENCH_ONLY"] === "uploads" ? process.env["BENCH_ONLY"] : undefined
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/aperture_bench_media"
const runId = randomBytes(4).toString("hex")
const prefixes = prefixesOf(`benchmedia${runId}`)
const TIME = "/usr/bin/time"
const MiB = 1024 * 1024

const workDir = mkdtempSync(path.join(os.tmpdir(), "aperture-bench-media-"))
/** Set once the compiled copy is built (under bench/media, so that packages resolve); removed at the end. */
let plainDir: string | undefined

// ---------------------------------------------------------------------------------------------
// CPU accounting

/** Runs `work` and reports how many cores the whole machine kept busy meanwhile. */
const withMachineCpu = async <A>(work: () => Promise<A>): Promise<{ result: A; machineCores: number | null; wallSeconds: number }> => {
  const m0 = machineJiffies()
  const t0 = performance.now()
  const result = await work()
  const wallSeconds = (performance.now() - t0) / 1000
  const m1 = machineJiffies()
  const machineCores = m0 === null || m1 === null ? null : (m1.busy - m0.busy) / CLOCK_TICKS_PER_SECOND / wallSeconds
  return { result, machineCores, wallSeconds }
}

/** How busy the machine is before we start: others' work would distort every figure. */
const idleCheck = async () => {
  const { machineCores } = await withMachineCpu(() => sleep(1_000))
  return { busyCoresBeforeStart: machineCores, loadAverage: os.loadavg() }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Nearest-rank percentile. */
const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const fmt = (n: number | null, digits = 1) => (n === null || !Number.isFinite(n) ? "n/a" : n.toFixed(digits))
const mib = (bytes: number) => bytes / MiB

// ---------------------------------------------------------------------------------------------
// Child processes (the worker child and the vips CLI); servers are tracked by ../accounts/server.ts

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const liveChildren = new Set<ChildProcess>()

const run = (file: string, argv: ReadonlyArray<string>, options: { cwd?: string } = {}): Promise<Finished> =>
  new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: options.cwd ?? REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] })
    liveChildren.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-16_384)))
    child.once("error", (e) => {
      liveChildren.delete(child)
      reject(e)
    })
    child.once("close", (code, signal) => {
      liveChildren.delete(child)
      resolve({ code, signal, stdout, stderr })
    })
  })

// ---------------------------------------------------------------------------------------------
// Part 1: Aperture's pipeline

interface JobMeasurement {
  readonly round: number
  readonly imagesPerSec: number
  readonly seconds: number
  /** Cores used by the measured processes during the timed part. */
  readonly cores: number
  /** Cores the whole machine kept busy during the timed part; well above `cores` means others were running. */
  readonly machineCores: number | null
  /** Cores this (the bench) process used meanwhile: spawning the CLI's processes is not free. */
  readonly harnessCores: number
  /** Aperture: the process's VmHWM. CLI: the largest ru_maxrss of its processes (one job's). */
  readonly peakRssBytes: number
  readonly baselineRssBytes: number | null
  readonly jobMillisMedian: number | null
  readonly outputBytesPerImage: number
}

interface ApertureVariant {
  /** libvips threads per Sharp pipeline; Sharp's default when absent. */
  readonly sharpThreads?: number
  /** Compiled child and pipeline, run with plain `node` instead of `node --import tsx`. */
  readonly plain?: PlainBuild
}

const runAperture = async (input: string, round: number, concurrency: number, variant: ApertureVariant = {}): Promise<JobMeasurement> => {
  const { sharpThreads, plain } = variant
  const outDir = path.join(workDir, `aperture-${round}-c${concurrency}-t${sharpThreads ?? "default"}${plain ? "-plain" : ""}`)
  const args: ChildArgs = {
    input,
    outDir,
    count: settings.images,
    concurrency,
    maxPixels: settings.maxPixels,
    root: SERVER_ROOT,
    ...(sharpThreads === undefined ? {} : { sharpThreads }),
    ...(plain === undefined ? {} : { pipeline: plain.pipelineUrl })
  }
  const done = plain === undefined
    ? await run(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "bench/media/worker-child.ts"), JSON.stringify(args)])
    : await run(process.execPath, [plain.childFile, JSON.stringify(args)])
  const line = done.stdout.split("\n").find((l) => l.startsWith("RESULT "))
  if (done.code !== 0 || line === undefined) {
    throw new Error(`worker-child failed (${done.code ?? done.signal}):\n${done.stderr}\n${done.stdout}`)
  }
  const r = JSON.parse(line.slice("RESULT ".length)) as ChildResult
  await fs.rm(outDir, { recursive: true, force: true })
  return {
    round,
    imagesPerSec: r.imagesPerSec,
    seconds: r.seconds,
    cores: r.cores,
    machineCores: r.machineCores,
    harnessCores: 0,
    peakRssBytes: r.peakRssBytes,
    baselineRssBytes: r.baselineRssBytes,
    jobMillisMedian: median(r.jobMillis),
    outputBytesPerImage: r.outputBytesPerImage
  }
}

interface PlainBuild {
  readonly dir: string
  readonly childFile: string
  readonly pipelineUrl: string
}

/**
 * worker-child.ts and Pipeline.ts compiled to plain ES modules by esbuild (tsx's own compiler),
 * packages left external, into a directory under bench/media so that `effect` and `sharp` resolve
 * from this repository's node_modules. Null (and the row is skipped) if esbuild is not there.
 */
const buildPlain = async (): Promise<PlainBuild | null> => {
  const dir = fileURLToPath(new URL(`./.plain-${runId}/`, import.meta.url))
  plainDir = dir
  try {
    const esbuild = await import("esbuild")
    await esbuild.build({
      entryPoints: {
        "worker-child": fileURLToPath(new URL("./worker-child.ts", import.meta.url)),
        pipeline: path.join(SERVER_ROOT, "src/media/Pipeline.ts")
      },
      outdir: dir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent"
    })
    return { dir, childFile: path.join(dir, "worker-child.mjs"), pipelineUrl: pathToFileURL(path.join(dir, "pipeline.mjs")).href }
  } catch (e) {
    console.warn(`WARNING: could not compile the pipeline without tsx (${String(e)}); that row is skipped`)
    return null
  }
}

// ---------------------------------------------------------------------------------------------
// Part 1: the libvips CLI

interface Geometry {
  /** Size of the uncompressed base all widths are derived from. */
  readonly base: { readonly width: number; readonly height: number }
  readonly renditions: ReadonlyArray<{ readonly name: string; readonly width: number; readonly height: number; readonly quality: number }>
}

interface ProcUsage {
  readonly maxRssKiB: number
  readonly cpuSeconds: number
}

/** One vipsthumbnail process under GNU time, which reports its peak RSS and CPU. */
const vipsthumbnail = async (argv: ReadonlyArray<string>): Promise<ProcUsage> => {
  const done = await run(TIME, ["-f", "BENCHTIME %M %U %S", "vipsthumbnail", ...argv])
  const m = /BENCHTIME (\d+) ([\d.]+) ([\d.]+)/.exec(done.stderr)
  if (done.code !== 0 || m === null) throw new Error(`vipsthumbnail ${argv.join(" ")} failed (${done.code ?? done.signal}):\n${done.stderr}`)
  return { maxRssKiB: Number(m[1]), cpuSeconds: Number(m[2]) + Number(m[3]) }
}

const webpOut = (dir: string, stem: string, r: Geometry["renditions"][number]) =>
  `${path.join(dir, `${stem}-w${r.width}.webp`)}[Q=${r.quality},effort=${settings.webp.effort},strip]`

const sizeArg = (g: { width: number; height: number }) => `${g.width}x${g.height}`

/** One image, five processes: decode once to an uncompressed base, then derive and encode each width. */
const cliJob = async (input: string, outDir: string, i: number, geometry: Geometry): Promise<Array<ProcUsage>> => {
  const base = path.join(outDir, `${i}-base.v`)
  const usages = [await vipsthumbnail([input, "--size", sizeArg(geometry.base), "--smartcrop", "centre", "-o", base])]
  for (const r of geometry.renditions) {
    usages.push(await vipsthumbnail([base, "--size", sizeArg(r), "--smartcrop", "centre", "-o", webpOut(outDir, String(i), r)]))
  }
  return usages
}

/**
 * One lane's images, five processes in all: vipsthumbnail names each output after its input
 * (`%s`), so every image of the lane is a symlink of its own to the one input file.
 */
const cliBatch = async (inputs: ReadonlyArray<string>, outDir: string, geometry: Geometry): Promise<Array<ProcUsage>> => {
  const usages = [await vipsthumbnail([...inputs, "--size", sizeArg(geometry.base), "--smartcrop", "centre", "-o", path.join(outDir, "%s-base.v")])]
  const bases = inputs.map((f) => path.join(outDir, `${path.basename(f, path.extname(f))}-base.v`))
  for (const r of geometry.renditions) {
    usages.push(await vipsthumbnail([...bases, "--size", sizeArg(r), "--smartcrop", "centre", "-o", `${path.join(outDir, "%s")}-w${r.width}.webp[Q=${r.quality},effort=${settings.webp.effort},strip]`]))
  }
  return usages
}

type CliShape = "perJob" | "batched"

const runCli = async (input: string, geometry: Geometry, shape: CliShape, round: number, concurrency: number): Promise<JobMeasurement> => {
  const outDir = path.join(workDir, `cli-${shape}-${round}-c${concurrency}`)
  await fs.mkdir(outDir, { recursive: true })
  const n = settings.images
  // batched: the lanes' symlinks are made before the clock starts
  const lanes: Array<Array<string>> = Array.from({ length: concurrency }, () => [])
  if (shape === "batched") {
    for (let i = 0; i < n; i++) {
      const link = path.join(outDir, `img${String(i).padStart(4, "0")}.jpg`)
      await fs.symlink(input, link)
      lanes[i % concurrency]!.push(link)
    }
  }
  const usages: Array<ProcUsage> = []
  const self0 = process.cpuUsage()
  const { result: seconds, machineCores } = await withMachineCpu(async () => {
    const t0 = performance.now()
    if (shape === "perJob") {
      let next = 0
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++
          usages.push(...(await cliJob(input, outDir, i, geometry)))
        }
      }))
    } else {
      await Promise.all(lanes.map(async (lane) => usages.push(...(await cliBatch(lane, outDir, geometry)))))
    }
    return (performance.now() - t0) / 1000
  })
  const self = process.cpuUsage(self0)
  // check the output of the first image: the four sizes exist with the pipeline's dimensions
  const stem = shape === "perJob" ? "0" : "img0000-base"
  let outputBytesPerImage = 0
  for (const r of geometry.renditions) {
    const file = path.join(outDir, `${stem}-w${r.width}.webp`)
    const meta = await sharp(file).metadata()
    if (meta.width !== r.width || meta.height !== r.height || meta.format !== "webp") {
      throw new Error(`CLI output ${file} is ${meta.format} ${meta.width}×${meta.height}; expected webp ${r.width}×${r.height}`)
    }
    outputBytesPerImage += (await fs.stat(file)).size
  }
  await fs.rm(outDir, { recursive: true, force: true })
  const cpuSeconds = usages.reduce((s, u) => s + u.cpuSeconds, 0)
  return {
    round,
    imagesPerSec: n / seconds,
    seconds,
    cores: cpuSeconds / seconds,
    machineCores,
    harnessCores: (self.user + self.system) / 1e6 / seconds,
    peakRssBytes: Math.max(...usages.map((u) => u.maxRssKiB)) * 1024,
    baselineRssBytes: null,
    jobMillisMedian: shape === "perJob" ? (seconds * 1000 * concurrency) / n : null,
    outputBytesPerImage
  }
}

const ensureVips = (): string => {
  const has = () => {
    try {
      return execFileSync("vips", ["--version"], { encoding: "utf8" }).trim()
    } catch {
      return null
    }
  }
  const found = has()
  if (found !== null && existsSync("/usr/bin/vipsthumbnail")) return found
  console.log("vipsthumbnail not found; installing libvips-tools with apt-get …")
  try {
    execFileSync("apt-get", ["install", "-y", "libvips-tools"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  } catch {
    execFileSync("apt-get", ["update"], { stdio: "ignore" })
    execFileSync("apt-get", ["install", "-y", "libvips-tools"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
  }
  const installed = has()
  if (installed === null) throw new Error("could not install libvips-tools (vipsthumbnail)")
  return installed
}

const ensureTime = () => {
  if (existsSync(TIME)) return
  console.log("GNU time not found; installing it with apt-get …")
  execFileSync("apt-get", ["install", "-y", "time"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
}

type JobTargetId =
  | `aperture-c${number}`
  | `aperture-threads-c${number}`
  | `aperture-plain-c${number}`
  | `cli-perJob-c${number}`
  | `cli-batched-c${number}`

interface JobTarget {
  readonly id: JobTargetId
  readonly label: string
  readonly run: (round: number) => Promise<JobMeasurement>
}

const rotate = <A>(items: ReadonlyArray<A>, by: number): ReadonlyArray<A> => {
  const k = by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

const benchJobs = async (input: string, geometry: Geometry) => {
  const targets: Array<JobTarget> = []
  for (const c of settings.jobConcurrencies) {
    targets.push({ id: `aperture-c${c}`, label: `Aperture render, concurrency ${c}`, run: (r) => runAperture(input, r, c) })
    targets.push({ id: `cli-perJob-c${c}`, label: `vipsthumbnail per job, concurrency ${c}`, run: (r) => runCli(input, geometry, "perJob", r, c) })
    targets.push({ id: `cli-batched-c${c}`, label: `vipsthumbnail batched, concurrency ${c}`, run: (r) => runCli(input, geometry, "batched", r, c) })
  }
  const cores = os.cpus().length
  targets.push({
    id: "aperture-threads-c1",
    label: `Aperture render, concurrency 1, sharp.concurrency(${cores})`,
    run: (r) => runAperture(input, r, 1, { sharpThreads: cores })
  })
  const plain = await buildPlain()
  if (plain !== null) {
    targets.push({ id: "aperture-plain-c1", label: "Aperture render, concurrency 1, compiled, no tsx", run: (r) => runAperture(input, r, 1, { plain }) })
  }

  // warm the page cache with vips' libraries and the input, untimed
  const warmDir = path.join(workDir, "cli-warmup")
  await fs.mkdir(warmDir, { recursive: true })
  await cliJob(input, warmDir, 0, geometry)
  await fs.rm(warmDir, { recursive: true, force: true })

  const results = Object.fromEntries(targets.map((t) => [t.id, [] as Array<JobMeasurement>])) as Record<string, Array<JobMeasurement>>
  for (let round = 1; round <= settings.rounds; round++) {
    for (const t of rotate(targets, round - 1)) {
      const m = await t.run(round)
      results[t.id]!.push(m)
      console.log(
        `[round ${round}/${settings.rounds}] ${t.label.padEnd(52)} ${fmt(m.imagesPerSec, 2).padStart(6)} img/s  ` +
          `peak RSS ${fmt(mib(m.peakRssBytes), 0).padStart(4)} MiB  CPU ${fmt(m.cores, 2)} cores ` +
          `(bench ${fmt(m.harnessCores, 2)}, whole machine ${fmt(m.machineCores, 2)})`
      )
      await sleep(settings.pauseBetweenMillis)
    }
  }
  return { targets, results }
}

// ---------------------------------------------------------------------------------------------
// Part 2: upload acknowledgement

interface UploadSample {
  readonly status: number
  /** Request start (first byte handed to the socket) to the response's last byte. */
  readonly totalMs: number
  /** Last body byte handed to the kernel to the response's last byte: the server's share. */
  readonly afterSentMs: number
  readonly body: string
  readonly connection: string | undefined
  readonly error?: string
}

interface Upload {
  readonly head: Buffer
  readonly image: Buffer
  readonly tail: Buffer
  readonly contentType: string
  readonly length: number
}

const multipart = (image: Buffer, caption: string): Upload => {
  const boundary = `----ApertureBench${randomBytes(12).toString("hex")}`
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\n${caption}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return { head, image, tail, contentType: `multipart/form-data; boundary=${boundary}`, length: head.length + image.length + tail.length }
}

const uploadOnce = (server: Server, agent: http.Agent, token: string, upload: Upload): Promise<UploadSample> =>
  new Promise((resolve) => {
    const t0 = performance.now()
    let sentAt = NaN
    const req = http.request(
      `${server.baseUrl}/api/v1/posts`,
      {
        method: "POST",
        agent,
        headers: { authorization: `Bearer ${token}`, "content-type": upload.contentType, "content-length": String(upload.length) },
        timeout: settings.uploadTimeoutMillis
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (body += c))
        res.on("end", () => {
          const now = performance.now()
          resolve({
            status: res.statusCode ?? 0,
            totalMs: now - t0,
            afterSentMs: now - (Number.isNaN(sentAt) ? now : sentAt),
            body,
            connection: res.headers.connection
          })
        })
      }
    )
    req.on("finish", () => (sentAt = performance.now()))
    req.on("timeout", () => req.destroy(new Error(`no answer within ${settings.uploadTimeoutMillis} ms`)))
    req.on("error", (e) => resolve({ status: 0, totalMs: performance.now() - t0, afterSentMs: NaN, body: "", connection: undefined, error: e.message }))
    // three writes, no copy: Node hands the 5 MB to the socket at the pace the server reads it
    req.write(upload.head)
    req.write(upload.image)
    req.end(upload.tail)
  })

const isAccepted = (s: UploadSample) => {
  if (s.status !== 202) return false
  try {
    const json = JSON.parse(s.body) as { postId?: unknown; status?: unknown }
    return typeof json.postId === "string" && json.status === "processing"
  } catch {
    return false
  }
}

interface UploadMeasurement {
  readonly round: number
  readonly concurrency: number
  readonly uploads: number
  readonly accepted: number
  readonly failures: ReadonlyArray<string>
  readonly wallSeconds: number
  readonly mbPerSec: number
  readonly uploadsPerSec: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly afterSentP50Ms: number
  readonly afterSentP99Ms: number
  readonly serverCores: number | null
  readonly clientCores: number
  readonly machineCores: number | null
  /** Mean of the server's own request-duration histogram for POST /api/v1/posts over the measurement. */
  readonly serverMeanMs: number | null
  readonly connectionHeaders: Record<string, number>
  /** Originals found on disk with exactly the upload's size, against accepted uploads. */
  readonly storedOriginals: number
  /** Every upload's latency (request start to response end), in completion order, 0.1 ms. */
  readonly latenciesMs: ReadonlyArray<number>
}

const uploadBurst = async (server: Server, token: string, upload: Upload, count: number, concurrency: number) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const samples: Array<UploadSample> = []
  let next = 0
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++
        samples.push(await uploadOnce(server, agent, token, upload))
      }
    }))
  } finally {
    agent.destroy()
  }
  return samples
}

/** Sum and count of the server's duration histogram for POST /api/v1/posts, all statuses. */
const scrapePostsHistogram = async (server: Server): Promise<{ sum: number; count: number } | null> => {
  try {
    const { status, body } = await request(`${server.baseUrl}/metrics`)
    if (status !== 200) return null
    let sum = 0
    let count = 0
    for (const line of body.split("\n")) {
      if (!line.startsWith("aperture_http_request_duration_seconds_") || !line.includes('method="POST"') || !/route="[^"]*\/posts"/.test(line)) continue
      const value = Number(line.slice(line.lastIndexOf(" ") + 1))
      if (line.startsWith("aperture_http_request_duration_seconds_sum")) sum += value
      if (line.startsWith("aperture_http_request_duration_seconds_count")) count += value
    }
    return { sum, count }
  } catch {
    return null
  }
}

const originalsDir = (dataDir: string) => path.join(dataDir, "media")

/** Counts the stored originals of the upload's exact size, then removes them (keeps the disk in bounds). */
const collectOriginals = async (dataDir: string, size: number): Promise<number> => {
  const dir = originalsDir(dataDir)
  if (!existsSync(dir)) return 0
  let matching = 0
  for (const name of await fs.readdir(dir)) {
    if (!name.startsWith("orig-")) continue
    const file = path.join(dir, name)
    if (!name.includes(".part-") && (await fs.stat(file)).size === size) matching++
    await fs.rm(file, { force: true })
  }
  return matching
}

const measureUploads = async (server: Server, dataDir: string, token: string, upload: Upload, round: number, concurrency: number): Promise<UploadMeasurement> => {
  await collectOriginals(dataDir, upload.image.length)
  const pid = server.child.pid ?? -1
  const h0 = await scrapePostsHistogram(server)
  const s0 = processCpuSeconds(pid)
  const c0 = process.cpuUsage()
  const { result: samples, machineCores, wallSeconds } = await withMachineCpu(() => uploadBurst(server, token, upload, settings.uploads, concurrency))
  const s1 = processCpuSeconds(pid)
  const c1 = process.cpuUsage(c0)
  const h1 = await scrapePostsHistogram(server)
  if (server.exit !== undefined) throw new ServerError(server, `the server died during the uploads (${server.exit})`)
  // the post rows commit before the 202; the files were renamed into place before that
  const storedOriginals = await collectOriginals(dataDir, upload.image.length)
  const accepted = samples.filter(isAccepted)
  const failures = samples.filter((s) => !isAccepted(s)).map((s) => `${s.status} ${s.error ?? s.body.slice(0, 200)}`)
  const totals = samples.map((s) => s.totalMs)
  const afterSent = samples.map((s) => s.afterSentMs).filter((n) => Number.isFinite(n))
  const connectionHeaders: Record<string, number> = {}
  for (const s of samples) connectionHeaders[s.connection ?? "(none)"] = (connectionHeaders[s.connection ?? "(none)"] ?? 0) + 1
  const dCount = h0 && h1 ? h1.count - h0.count : 0
  return {
    round,
    concurrency,
    uploads: samples.length,
    accepted: accepted.length,
    failures: failures.slice(0, 5),
    wallSeconds,
    mbPerSec: (samples.length * upload.length) / 1e6 / wallSeconds,
    uploadsPerSec: samples.length / wallSeconds,
    p50Ms: percentile(totals, 50),
    p90Ms: percentile(totals, 90),
    p99Ms: percentile(totals, 99),
    maxMs: Math.max(...totals),
    afterSentP50Ms: percentile(afterSent, 50),
    afterSentP99Ms: percentile(afterSent, 99),
    serverCores: s0 === null || s1 === null ? null : (s1 - s0) / wallSeconds,
    clientCores: (c1.user + c1.system) / 1e6 / wallSeconds,
    machineCores,
    serverMeanMs: h0 && h1 && dCount > 0 ? ((h1.sum - h0.sum) / dCount) * 1000 : null,
    connectionHeaders,
    storedOriginals,
    latenciesMs: totals.map((t) => Math.round(t * 10) / 10)
  }
}

const benchUploads = async (uploadFile: string) => {
  const image = await fs.readFile(uploadFile)
  if (image.length > settings.maxUploadBytes - 64 * 1024) throw new Error(`the upload image is ${image.length} bytes; over MAX_UPLOAD_BYTES`)
  await dropDatabase(DATABASE_URL)
  const dataDir = path.join(workDir, "data")
  await fs.mkdir(dataDir, { recursive: true })
  const server = await startServer(SERVER_ROOT, {
    ...baseServerEnv("uws", DATABASE_URL, prefixes),
    DATA_DIR: dataDir,
    PASSWORD_SCRYPT_LOG_N: "10",
    RATE_WRITES_PER_MINUTE: "1000000",
    RATE_SIGNUPS_PER_IP_PER_HOUR: "1000000",
    ROLES: "api",
    ...cpuProfileEnv()
  })
  try {
    const username = `bench_${runId}`
    const signup = await request(`${server.baseUrl}/api/v1/auth/signup`, {
      method: "POST",
      json: { username, email: `${username}@example.com`, password: `Bench-${randomBytes(12).toString("hex")}` }
    })
    if (signup.status !== 201) throw new ServerError(server, `signup answered ${signup.status}: ${signup.body}`)
    const token = (JSON.parse(signup.body) as { token: string }).token
    const upload = multipart(image, "benchmark upload #aperture @nobody")

    // warm-up, not counted: JIT, the pools, the first files in the data directory
    const warm = await uploadBurst(server, token, upload, settings.uploadWarmup, 4)
    const bad = warm.filter((s) => !isAccepted(s))
    if (bad.length > 0) throw new ServerError(server, `warm-up uploads failed: ${bad.map((s) => `${s.status} ${s.error ?? s.body.slice(0, 300)}`).join("; ")}`)

    const results: Record<number, Array<UploadMeasurement>> = Object.fromEntries(settings.uploadConcurrencies.map((c) => [c, []]))
    for (let round = 1; round <= settings.rounds; round++) {
      for (const c of rotate(settings.uploadConcurrencies, round - 1)) {
        const m = await measureUploads(server, dataDir, token, upload, round, c)
        results[c]!.push(m)
        console.log(
          `[round ${round}/${settings.rounds}] POST /posts ×${m.uploads}, ${c} clients: ${m.accepted} accepted, ` +
            `p50 ${fmt(m.p50Ms)} ms p99 ${fmt(m.p99Ms)} ms (after last byte sent: p50 ${fmt(m.afterSentP50Ms)} p99 ${fmt(m.afterSentP99Ms)}), ` +
            `${fmt(m.mbPerSec, 0)} MB/s, server ${fmt(m.serverCores, 2)} cores, client ${fmt(m.clientCores, 2)}, machine ${fmt(m.machineCores, 2)}, ` +
            `server mean ${fmt(m.serverMeanMs)} ms, stored ${m.storedOriginals}`
        )
        if (m.failures.length > 0) console.warn(`  WARNING: failures, e.g. ${m.failures.join(" | ")}`)
        await sleep(settings.pauseBetweenMillis)
      }
    }
    return { results, imageBytes: image.length, bodyBytes: upload.length, serverStderrTail: server.stderr.toString().slice(-4_000) }
  } finally {
    await stopServer(server)
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup

const removeTempDirs = () => {
  rmSync(workDir, { recursive: true, force: true })
  if (plainDir !== undefined) rmSync(plainDir, { recursive: true, force: true })
}

let cleanedUp = false
const cleanup = async () => {
  if (cleanedUp) return
  cleanedUp = true
  for (const child of liveChildren) child.kill("SIGKILL")
  await removeLeftovers([
    ...prefixLeftovers(prefixes),
    { what: "database aperture_bench_media", remove: () => dropDatabase(DATABASE_URL) }
  ])
  removeTempDirs()
}

// ---------------------------------------------------------------------------------------------
// Report

const summariseJobs = (jobs: Awaited<ReturnType<typeof benchJobs>>, rows: Array<Row>) => {
  const jobMedian = (id: string) => {
    const ms = jobs.results[id] ?? []
    return {
      imagesPerSec: median(ms.map((m) => m.imagesPerSec)),
      cores: median(ms.map((m) => m.cores)),
      peakRssBytes: Math.max(...ms.map((m) => m.peakRssBytes)),
      baselineRssBytes: ms[0]?.baselineRssBytes ?? null,
      jobMillisMedian: median(ms.map((m) => m.jobMillisMedian ?? NaN)),
      outputBytesPerImage: ms[0]?.outputBytesPerImage ?? 0
    }
  }
  const summary = Object.fromEntries(jobs.targets.map((t) => [t.id, { label: t.label, ...jobMedian(t.id) }]))
  const ratios: Array<Record<string, unknown>> = []
  for (const c of settings.jobConcurrencies) {
    const ap = summary[`aperture-c${c}`]!
    const perJob = summary[`cli-perJob-c${c}`]!
    const batched = summary[`cli-batched-c${c}`]!
    const best = perJob.imagesPerSec >= batched.imagesPerSec ? { id: "per job", ...perJob } : { id: "batched", ...batched }
    const ratio = ap.imagesPerSec / best.imagesPerSec
    rows.push({ metric: `c${c}: Aperture render (img/s)`, value: fmt(ap.imagesPerSec, 2), goal: "" })
    rows.push({ metric: `c${c}: vipsthumbnail, 5 processes per job (img/s)`, value: fmt(perJob.imagesPerSec, 2), goal: "" })
    rows.push({ metric: `c${c}: vipsthumbnail, batched per lane (img/s)`, value: fmt(batched.imagesPerSec, 2), goal: "" })
    rows.push({ metric: `c${c}: Aperture / CLI best (${best.id})`, value: `${fmt(ratio, 2)}×`, goal: `≥ ${goals.ratio}×`, met: ratio >= goals.ratio })
    rows.push({ metric: `c${c}: Aperture / CLI per job`, value: `${fmt(ap.imagesPerSec / perJob.imagesPerSec, 2)}×`, goal: "" })
    const perJobMiB = mib(ap.peakRssBytes) / c
    rows.push({ metric: `c${c}: Aperture peak RSS / job (VmHWM ÷ ${c})`, value: `${fmt(perJobMiB, 0)} MiB`, goal: `< ${goals.rssPerJobMiB} MiB`, met: perJobMiB < goals.rssPerJobMiB })
    if (ap.baselineRssBytes !== null) {
      rows.push({ metric: `c${c}: Aperture peak RSS above idle process / job`, value: `${fmt((mib(ap.peakRssBytes) - mib(ap.baselineRssBytes)) / c, 0)} MiB`, goal: "" })
    }
    rows.push({ metric: `c${c}: vipsthumbnail peak RSS / process (${best.id})`, value: `${fmt(mib(best.peakRssBytes), 0)} MiB`, goal: "" })
    ratios.push({ concurrency: c, reference: best.id, ratio, goal: goals.ratio, met: ratio >= goals.ratio, perJobRatio: ap.imagesPerSec / perJob.imagesPerSec })
  }
  const threads = summary["aperture-threads-c1"]!
  rows.push({ metric: `c1: Aperture with sharp.concurrency(${os.cpus().length}) (img/s)`, value: fmt(threads.imagesPerSec, 2), goal: "" })
  rows.push({ metric: "Aperture idle process RSS, node --import tsx", value: `${fmt(mib(summary["aperture-c1"]!.baselineRssBytes ?? NaN), 0)} MiB`, goal: "" })
  const plain = summary["aperture-plain-c1"]
  if (plain !== undefined) {
    rows.push({ metric: "Aperture idle process RSS, compiled, plain node", value: `${fmt(mib(plain.baselineRssBytes ?? NaN), 0)} MiB`, goal: "" })
    rows.push({ metric: "c1: Aperture peak RSS, compiled, plain node", value: `${fmt(mib(plain.peakRssBytes), 0)} MiB`, goal: "" })
    rows.push({ metric: "c1: Aperture compiled, plain node (img/s)", value: fmt(plain.imagesPerSec, 2), goal: "" })
  }
  return { summary, ratios }
}

const summariseUploads = (uploads: Awaited<ReturnType<typeof benchUploads>>, rows: Array<Row>) =>
  settings.uploadConcurrencies.map((c) => {
    const ms = uploads.results[c] ?? []
    const s = {
      concurrency: c,
      p50Ms: median(ms.map((m) => m.p50Ms)),
      p99Ms: median(ms.map((m) => m.p99Ms)),
      afterSentP50Ms: median(ms.map((m) => m.afterSentP50Ms)),
      afterSentP99Ms: median(ms.map((m) => m.afterSentP99Ms)),
      mbPerSec: median(ms.map((m) => m.mbPerSec)),
      serverMeanMs: median(ms.map((m) => m.serverMeanMs ?? NaN)),
      serverCores: median(ms.map((m) => m.serverCores ?? NaN)),
      accepted: ms.reduce((n, m) => n + m.accepted, 0),
      uploads: ms.reduce((n, m) => n + m.uploads, 0),
      storedOriginals: ms.reduce((n, m) => n + m.storedOriginals, 0)
    }
    rows.push({ metric: `upload, ${c} clients: p50 ack (ms)`, value: fmt(s.p50Ms), goal: "" })
    const judged = settings.uploadGoalConcurrencies.includes(c)
    rows.push({
      metric: `upload, ${c} clients: p99 ack (ms)`,
      value: fmt(s.p99Ms),
      ...(judged ? { goal: `< ${goals.ackP99Ms} ms`, met: s.p99Ms < goals.ackP99Ms && s.accepted === s.uploads } : { goal: "" })
    })
    rows.push({ metric: `upload, ${c} clients: p99 after last byte sent (ms)`, value: fmt(s.afterSentP99Ms), goal: "" })
    rows.push({ metric: `upload, ${c} clients: throughput (MB/s)`, value: fmt(s.mbPerSec, 0), goal: "" })
    rows.push({ metric: `upload, ${c} clients: server CPU (cores)`, value: fmt(s.serverCores, 2), goal: "" })
    rows.push({
      metric: `upload, ${c} clients: accepted / stored / sent`,
      value: `${s.accepted}/${s.storedOriginals}/${s.uploads}`,
      goal: "all",
      met: s.accepted === s.uploads && s.storedOriginals === s.uploads
    })
    return s
  })

/** The measurements during which the machine did noticeably more than what was measured. */
const FOREIGN_CORES_TOLERATED = 0.3
function foreignLoad(part: Awaited<ReturnType<typeof benchJobs>> | Awaited<ReturnType<typeof benchUploads>> | undefined): Array<string> {
  if (part === undefined) return []
  const out: Array<string> = []
  if ("targets" in part) {
    for (const t of part.targets) {
      for (const m of part.results[t.id] ?? []) {
        const extra = m.machineCores === null ? 0 : m.machineCores - m.cores - m.harnessCores
        if (extra > FOREIGN_CORES_TOLERATED) out.push(`round ${m.round} ${t.label}: ${extra.toFixed(2)} cores besides the measured ${m.cores.toFixed(2)}`)
      }
    }
  } else {
    for (const ms of Object.values(part.results)) {
      for (const m of ms) {
        const extra = m.machineCores === null ? 0 : m.machineCores - (m.serverCores ?? 0) - m.clientCores
        if (extra > FOREIGN_CORES_TOLERATED) out.push(`round ${m.round} uploads, ${m.concurrency} clients: ${extra.toFixed(2)} cores besides server and client (PostgreSQL, NATS and the kernel's writeback count here too)`)
      }
    }
  }
  return out
}

const main = async () => {
  const startedAt = new Date()
  const t0 = performance.now()
  const quiet = await idleCheck()
  console.log(
    `Media benchmark (${os.cpus().length} CPUs, node ${process.version}, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, ` +
      `${settings.images} images × ${settings.rounds} rounds, ${settings.uploads} uploads per measurement, prefix ${prefixes.nats})`
  )
  if (quiet.busyCoresBeforeStart !== null && quiet.busyCoresBeforeStart > 0.25) {
    console.warn(
      `WARNING: the machine was already busy before the start (${quiet.busyCoresBeforeStart.toFixed(2)} cores, load average ` +
        `${quiet.loadAverage.map((l) => l.toFixed(2)).join(" ")}): other work will distort these numbers`
    )
  }
  ensureTime()
  const vipsVersion = ensureVips()

  // inputs
  const photo = path.join(workDir, "photo-12mp.jpg")
  const uploadImage = path.join(workDir, "upload-20mp.jpg")
  const photoInfo = await makeJpeg(settings.photo, photo)
  const uploadInfo = await makeJpeg(settings.upload, uploadImage)
  console.log(
    `inputs: ${settings.photo.width}×${settings.photo.height} q${settings.photo.quality} ${fmt(photoInfo.bytes / 1e6, 2)} MB; ` +
      `upload ${settings.upload.width}×${settings.upload.height} q${settings.upload.quality} ${fmt(uploadInfo.bytes / 1e6, 2)} MB\n`
  )

  // the pipeline's own output sizes, so the CLI produces exactly the same ones
  const probe = await Effect.runPromise(render(new Uint8Array(await fs.readFile(photo)), { kind: "post", maxPixels: settings.maxPixels }))
  const geometry: Geometry = {
    base: { width: probe.width, height: probe.height },
    renditions: probe.renditions.map((r) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      quality: r.name === "thumbnail" ? settings.webp.thumbnailQuality : settings.webp.quality
    }))
  }

  let jobs: Awaited<ReturnType<typeof benchJobs>> | undefined
  let uploads: Awaited<ReturnType<typeof benchUploads>> | undefined
  try {
    if (only !== "uploads") jobs = await benchJobs(photo, geometry)
    console.log("")
    if (only !== "jobs") uploads = await benchUploads(uploadImage)
  } finally {
    await cleanup()
  }

  const rows: Array<Row> = []
  const jobSummary = jobs === undefined ? undefined : summariseJobs(jobs, rows)
  const uploadSummary = uploads === undefined ? undefined : summariseUploads(uploads, rows)

  console.log(
    `\n${settings.images} images per measurement, ${settings.uploads} uploads of ${fmt(uploadInfo.bytes / 1e6, 2)} MB per measurement; ` +
      `medians of ${settings.rounds} rounds (peak RSS: the largest)`
  )
  printTable(rows)
  if (jobs !== undefined) {
    console.log(
      `\nSharp runs ${sharp.concurrency()} libvips thread(s) per pipeline here (its default on glibc without jemalloc); ` +
        `vipsthumbnail uses one per core (${os.cpus().length}).`
    )
  }
  const foreign = [...foreignLoad(jobs), ...foreignLoad(uploads)]
  if (foreign.length > 0) {
    console.warn(`\nWARNING: other processes used CPU during ${foreign.length} measurement(s), so those figures are pessimistic:`)
    for (const f of foreign.slice(0, 8)) console.warn(`  ${f}`)
  }

  const json = {
    date: startedAt.toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    machine: { ...machineInfo(), ...quiet },
    versions: { sharp: sharp.versions, vipsCli: vipsVersion },
    settings: { ...settings, goals, serverRoot: SERVER_ROOT },
    inputs: { photoBytes: photoInfo.bytes, uploadImageBytes: uploadInfo.bytes, uploadBodyBytes: uploads?.bodyBytes ?? null, geometry },
    jobs: jobs === undefined ? null : { ...jobSummary, measurements: jobs.results },
    uploads: uploads === undefined ? null : { summary: uploadSummary, measurements: uploads.results, serverStderrTail: uploads.serverStderrTail },
    table: rows
  }
  await fs.writeFile(RESULTS_PATH, `${JSON.stringify(json, null, 2)}\n`)
  console.log(`\nresults written to ${RESULTS_PATH} (${fmt((performance.now() - t0) / 1000, 0)} s)`)
}

runBenchmark(main, {
  stopMessage: "stopping",
  cleanup,
  cleanupMillis: 5_000,
  children: () => liveChildren,
  onExit: removeTempDirs,
  onFailure: () => cleanup().catch(() => undefined)
})
