/**
 * Private service processes for fault tests: a test that stops Redis or restarts NATS does it to
 * its own server on its own port, never to the shared ones other test files are using.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Redacted } from "effect"
import S3rver from "s3rver"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"

export const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

const waitForPort = (port: number, timeoutMs = 10_000) =>
  Effect.async<void, Error>((resume) => {
    const deadline = Date.now() + timeoutMs
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resume(Effect.void)
      })
      socket.once("error", () => {
        socket.destroy()
        if (Date.now() > deadline) resume(Effect.fail(new Error(`port ${port} did not open`)))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })

const stopProcess = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGCONT") // a frozen process would act on SIGTERM only once thawed
    child.kill("SIGTERM")
  })

export interface ServiceProcess {
  readonly port: number
  readonly url: string
  readonly stop: Effect.Effect<void>
  readonly start: Effect.Effect<void, Error>
  /** Sends the running process a signal (SIGSTOP freezes it with its connections open; SIGCONT thaws it). */
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
}

/** A service process that can be stopped and started again on the same port and data. */
const managed = (command: string, args: (port: number) => Array<string>, url: (port: number) => string) =>
  Effect.gen(function*() {
    const port = yield* freePort
    let child: ChildProcess | undefined
    const start = Effect.suspend(() => {
      child = spawn(command, args(port), { stdio: "ignore" })
      return waitForPort(port)
    })
    const stop = Effect.suspend(() => (child ? stopProcess(child) : Effect.void))
    const signal = (sig: NodeJS.Signals) => Effect.sync(() => void child?.kill(sig))
    yield* Effect.acquireRelease(start, () => stop)
    return { port, url: url(port), stop, start, signal } satisfies ServiceProcess
  })

export const privateNats = Effect.gen(function*() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aperture-nats-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  return yield* managed(
    "nats-server",
    (port) => ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir],
    (port) => `nats://127.0.0.1:${port}`
  )
})

export const privateRedis = managed(
  "redis-server",
  (port) => ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
  (port) => `redis://127.0.0.1:${port}`
)

/**
 * A second API node (`src/main.ts` in a child process, standard transport) on the same database,
 * Redis prefix and NATS prefix as `config`, killed when the scope closes. Waits until it is ready
 * (or exits): it compiles the app first, which on a busy machine takes long — so the wait is bounded
 * only by the test's own timeout, never by a guess that a loaded CI machine can outrun.
 */
export const secondNode = (config: AppConfigShape, extraEnv: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const port = yield* freePort
    const env: Record<string, string> = {
      ...process.env as Record<string, string>,
      PORT: String(port),
      HOST: "127.0.0.1",
      ROLES: "api",
      NODE_ID: `${config.nodeId}-b`,
      HTTP_TRANSPORT: "node",
      DATABASE_URL: Redacted.value(config.databaseUrl),
      REDIS_URL: Redacted.value(config.redisUrl),
      REDIS_KEY_PREFIX: config.redisKeyPrefix,
      NATS_URL: config.natsUrl,
      NATS_PREFIX: config.natsPrefix,
      PASSWORD_SCRYPT_LOG_N: "10",
      ACTOR_PARTITIONS: String(config.actorPartitions),
      LOG_LEVEL: "error",
      ...extraEnv
    }
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn("node", ["--import", "tsx", "src/main.ts"], { env, stdio: "ignore" })),
      (c) => Effect.sync(() => c.kill("SIGKILL"))
    )
    const url = `http://127.0.0.1:${port}`
    for (;;) {
      const ok = yield* Effect.promise(() => fetch(`${url}/readyz`).then((r) => r.ok, () => false))
      if (ok) break
      if (child.exitCode !== null) return yield* Effect.dieMessage(`the second node exited (${child.exitCode})`)
      // real time, not Effect.sleep: under a TestClock it would never move
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
    }
    return { url, port }
  })

/** An S3-compatible server on loopback for the S3 store (s3rver: real data paths, no signature checks), until the scope closes; its endpoint. */
export const s3Server = Effect.gen(function*() {
  const port = yield* freePort
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aperture-s3-"))
  const server = new S3rver({ port, address: "127.0.0.1", silent: true, directory: dir })
  yield* Effect.acquireRelease(Effect.promise(() => server.run()), () =>
    Effect.promise(() => server.close()).pipe(Effect.zipRight(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))))
  return `http://127.0.0.1:${port}`
})
