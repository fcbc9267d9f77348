/**
 * The Aperture server as a child process on a free port, as in bench/http/run.ts: started with
 * `node --import tsx src/main.ts` (no npm wrapper, so the pid is the server's), ready once
 * `/healthz` answers 200, stopped with SIGTERM (SIGKILL if it overstays), killed on any exit.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as http from "node:http"
import * as net from "node:net"
import { fileURLToPath } from "node:url"

/** This repository; the server may also run from another checkout (see `startServer`). */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url))
const READY_TIMEOUT_MILLIS = 60_000
// Aperture drains in-flight work on SIGTERM (SHUTDOWN_GRACE_MS defaults to 10 s); allow a bit more
const STOP_TIMEOUT_MILLIS = 15_000

/** Keeps the last bytes of a stream: enough to show why a server failed without buffering a flood. */
class Tail {
  private text = ""
  constructor(private readonly maxChars = 16_384) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.maxChars)
  }
  toString(): string {
    return this.text
  }
}

export interface Server {
  readonly port: number
  readonly baseUrl: string
  readonly child: ChildProcess
  readonly stdout: Tail
  readonly stderr: Tail
  readonly exited: Promise<string>
  /** Set once the process is gone. */
  exit: string | undefined
}

/** The server failed to start or died; carries it so the caller can print its output. */
export class ServerError extends Error {
  constructor(readonly server: Server, message: string) {
    super(message)
  }
}

/** Every server still running, so exit and signal handlers can kill what is left. */
export const live = new Set<ChildProcess>()

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A port the OS just handed out; the tiny race before the child binds it is acceptable here. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = net.createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })

const spawnServer = (root: string, port: number, env: Readonly<Record<string, string>>): Server => {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  live.add(child)
  const stdout = new Tail()
  const stderr = new Tail()
  // always drained: a full pipe would block the server mid-benchmark
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk))
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk))
  const server: Server = {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    stdout,
    stderr,
    exit: undefined,
    exited: new Promise<string>((resolve) => {
      const done = (how: string) => {
        live.delete(child)
        server.exit = how
        resolve(how)
      }
      child.once("exit", (code, signal) => done(code !== null ? `code ${code}` : `signal ${signal}`))
      child.once("error", (e) => {
        stderr.push(`spawn failed: ${e.message}\n`)
        done("spawn error")
      })
    })
  }
  return server
}

export interface HttpAnswer {
  readonly status: number
  readonly body: string
}

/**
 * One request without keep-alive, so no idle socket of ours outlives it or delays a server's
 * shutdown. For set-up and checks only; the measurements use autocannon or `load.ts`.
 */
export const request = (
  url: string,
  options: { readonly method?: string; readonly headers?: Readonly<Record<string, string>>; readonly json?: unknown } = {},
  timeoutMillis = 10_000
) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json)
    const headers = { ...options.headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }
    const req = http.request(url, { method: options.method ?? "GET", headers, agent: false, timeout: timeoutMillis }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (text += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
      res.on("error", reject)
    })
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMillis} ms`)))
    req.on("error", reject)
    req.end(body)
  })

/** Polls `/healthz` until it answers 200; fails early if the process dies. */
const waitReady = async (server: Server): Promise<void> => {
  const deadline = Date.now() + READY_TIMEOUT_MILLIS
  while (Date.now() < deadline) {
    if (server.exit !== undefined) throw new ServerError(server, `the server exited (${server.exit}) before it was ready`)
    const status = await request(`${server.baseUrl}/healthz`, {}, 2_000).then((r) => r.status, () => 0)
    if (status === 200) return
    await sleep(200)
  }
  throw new ServerError(server, `the server's GET /healthz did not answer 200 within ${READY_TIMEOUT_MILLIS / 1000} s`)
}

/** Runs `src/main.ts` of `root` (a checkout with node_modules) with `env`, on a free port. */
export const startServer = async (root: string, env: Readonly<Record<string, string>>): Promise<Server> => {
  const server = spawnServer(root, await freePort(), env)
  try {
    await waitReady(server)
    return server
  } catch (e) {
    await stopServer(server)
    throw e
  }
}

/** SIGTERM first so Aperture shuts down as in production; SIGKILL if it overstays. */
export const stopServer = async (server: Server): Promise<void> => {
  if (server.exit !== undefined) return
  server.child.kill("SIGTERM")
  const stopped = await Promise.race([server.exited.then(() => true), sleep(STOP_TIMEOUT_MILLIS).then(() => false)])
  if (!stopped) {
    console.warn(`  the server ignored SIGTERM for ${STOP_TIMEOUT_MILLIS / 1000} s; killing it`)
    server.child.kill("SIGKILL")
    await server.exited
  }
}

/** Fails when the server died under load: its numbers would be meaningless. */
export const assertAlive = (server: Server, during: string) => {
  if (server.exit !== undefined) throw new ServerError(server, `the server died during ${during} (${server.exit})`)
}
