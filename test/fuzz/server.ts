/**
 * The server under fuzz, as its own process: `src/main.ts` on an isolated configuration (the
 * TestConfig layer of the calling test owns its database, Redis prefix and NATS prefix and cleans
 * them up). A process of its own is how a crash is told from a refusal: a request that kills the
 * server ends the child, which is recorded with the tail of its output and started again on the same
 * data, so one fatal input does not hide the others — and the test process itself never sees it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Redacted } from "effect"
import { AppConfig } from "../../src/config/AppConfig.ts"
import { fetchRaw } from "./wire.ts"

export type TransportName = "uws" | "node"

export interface Crash {
  readonly code: number | null
  readonly signal: string | null
  /** The last lines the process wrote (its dying stack trace, when it printed one). */
  readonly output: string
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Lines kept of the child's output: enough for a stack trace and the error logs around it. */
const TAIL_LINES = 60

export class ServerUnderFuzz {
  private child: ChildProcess | undefined
  private lines: Array<string> = []
  private exited: Promise<void> = Promise.resolve()
  readonly crashes: Array<Crash> = []
  port = 0
  /** How many times the process was started (1 when it never died). */
  starts = 0
  private stopping = false

  constructor(
    readonly transport: TransportName,
    private readonly env: Record<string, string>,
    private readonly appDir: string
  ) {}

  get pid() {
    return this.child?.pid
  }

  get alive() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /**
   * The child's recent output, newest last: what it printed outside its JSON logs (a dying stack
   * trace) and its last error logs — the "starting" and info lines say nothing about a crash.
   */
  tail(lines = TAIL_LINES) {
    const recent = this.lines.slice(-lines)
    const telling = recent.filter((l) => !l.startsWith("{") || l.includes("\"logLevel\":\"ERROR\"") || l.includes("\"logLevel\":\"FATAL\""))
    return (telling.length > 0 ? telling : recent).join("\n")
  }

  /** Error lines logged for a request id (the server logs a defect with it before answering 500). */
  logsFor(requestId: string) {
    return this.lines.filter((l) => l.includes(requestId)).join("\n")
  }

  async start() {
    this.port = await freePort()
    this.lines = []
    this.starts++
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: this.appDir,
      env: { ...process.env, ...this.env, PORT: String(this.port), HTTP_TRANSPORT: this.transport },
      stdio: ["ignore", "pipe", "pipe"]
    })
    this.child = child
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.length > 0) this.lines.push(line.slice(0, 4000))
      if (this.lines.length > 4 * TAIL_LINES) this.lines.splice(0, this.lines.length - 2 * TAIL_LINES)
    }
    child.stdout!.on("data", collect)
    child.stderr!.on("data", collect)
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        if (!this.stopping) this.crashes.push({ code, signal, output: this.tail() })
        resolve()
      })
    )
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`the ${this.transport} server exited during start-up:\n${this.tail()}`)
      const r = await fetchRaw(this.port, "GET", "/readyz", 2_000).catch(() => undefined)
      if (r?.status === 200) return
      await sleep(150)
    }
    throw new Error(`the ${this.transport} server did not become ready:\n${this.tail()}`)
  }

  /**
   * Whether the process died since the last call; when it did, it is started again. A short wait
   * first lets a crash that follows its request by a few milliseconds (a stream error) land here.
   */
  async checkCrashed(settleMs = 0): Promise<Crash | undefined> {
    if (settleMs > 0 && this.alive) await Promise.race([this.exited, sleep(settleMs)])
    if (this.alive) return undefined
    await this.exited
    const crash = this.crashes[this.crashes.length - 1]
    await this.start()
    return crash
  }

  async stop() {
    this.stopping = true
    const child = this.child
    if (child === undefined || !this.alive) return
    child.kill("SIGTERM")
    const done = await Promise.race([this.exited.then(() => true), sleep(20_000).then(() => false)])
    if (!done) {
      child.kill("SIGKILL")
      await this.exited
    }
  }
}

/** A fuzz server over the test's isolated configuration; stopped, and its media removed, on release. */
export const serverUnderFuzz = (transport: TransportName, settings: Record<string, string>, appDir: string) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `aperture-fuzz-${transport}-`))
    yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dataDir, { recursive: true, force: true })))
    const env = {
      HOST: "127.0.0.1",
      NODE_ID: config.nodeId,
      DATABASE_URL: Redacted.value(config.databaseUrl),
      REDIS_URL: Redacted.value(config.redisUrl),
      REDIS_KEY_PREFIX: config.redisKeyPrefix,
      NATS_URL: config.natsUrl,
      NATS_PREFIX: config.natsPrefix,
      ACTOR_PARTITIONS: String(config.actorPartitions),
      DATA_DIR: dataDir,
      // the same signing key after a restart, so nothing signed before a crash turns invalid
      UPLOAD_SIGNING_KEY: Redacted.value(config.media.uploadSigningKey),
      // the hostile inputs aim at /system/echo among others
      BENCH_FIXTURES: "1",
      ...settings
    }
    return yield* Effect.acquireRelease(
      Effect.promise(async () => {
        const server = new ServerUnderFuzz(transport, env, appDir)
        await server.start()
        return server
      }),
      (server) => Effect.promise(() => server.stop())
    )
  })
