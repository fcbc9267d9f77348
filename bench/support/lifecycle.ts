/**
 * A benchmark process from start to exit: the run's NATS and Redis prefixes (one of each, so
 * cleanup has a single prefix to delete), what is killed and cleaned up on Ctrl-C or SIGTERM, and
 * how a failure is reported. Servers are tracked by bench/accounts/server.ts (`live`).
 */
import type { ChildProcess } from "node:child_process"
import { live, ServerError, sleep } from "../accounts/server.ts"
import { deleteNatsPrefix, deleteRedisPrefix } from "../http/cleanup.ts"

export const natsUrl = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222"
export const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"

export interface Prefixes {
  readonly nats: string
  readonly redis: string
}

/** The server's NATS_PREFIX `name` and REDIS_KEY_PREFIX `name:`. */
export const prefixesOf = (name: string): Prefixes => ({ nats: name, redis: `${name}:` })

/** Something a run leaves behind, and how to remove it. */
export interface Leftover {
  readonly what: string
  readonly remove: () => Promise<unknown>
}

/** Best effort: leftover state is untidy, not wrong, so a failure here only warns. */
export const removeLeftovers = async (leftovers: ReadonlyArray<Leftover>) => {
  const outcome = await Promise.allSettled(leftovers.map((l) => l.remove()))
  outcome.forEach((o, i) => {
    if (o.status === "rejected") console.warn(`WARNING: could not delete ${leftovers[i]!.what}: ${String(o.reason)}`)
  })
}

/** The run's NATS streams and Redis keys. */
export const prefixLeftovers = (p: Prefixes): ReadonlyArray<Leftover> => [
  { what: `NATS streams of prefix ${p.nats}`, remove: () => deleteNatsPrefix(natsUrl, p.nats) },
  { what: `Redis keys of prefix ${p.redis}`, remove: () => deleteRedisPrefix(redisUrl, p.redis) }
]

export const cleanupPrefixes = (p: Prefixes) => removeLeftovers(prefixLeftovers(p))

// ---------------------------------------------------------------------------------------------
// Running and stopping

export interface Lifecycle {
  /** What a signal prints after its name, e.g. "stopping the server". */
  readonly stopMessage: string
  /** After a signal, once the servers stopped (or 3 s passed): undoes the run's state. */
  readonly cleanup: () => Promise<unknown>
  /** How long `cleanup` may take after a signal before the process exits anyway. */
  readonly cleanupMillis?: number
  /** Other children of this process, killed outright (SIGKILL) when it exits. */
  readonly children?: () => Iterable<ChildProcess>
  /** Runs first on a signal, before the servers are asked to stop. */
  readonly onSignal?: () => void
  /** Last resort at exit, synchronous: what must not outlive the process (temporary files). */
  readonly onExit?: () => void
  /** After a failure was reported, before exiting with status 1. */
  readonly onFailure?: () => Promise<unknown>
}

/** Set on Ctrl-C/SIGTERM, so the failures the interruption causes in the main flow stay quiet. */
let interrupted = false

const installExitHandlers = (l: Lifecycle) => {
  // last resort, synchronous: whatever is still alive when this process exits is killed outright
  process.on("exit", () => {
    for (const child of [...live, ...(l.children?.() ?? [])]) child.kill("SIGKILL")
    l.onExit?.()
  })
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      interrupted = true
      console.error(`\n${signal}: ${l.stopMessage}`)
      void (async () => {
        l.onSignal?.()
        for (const child of live) child.kill("SIGTERM")
        const deadline = Date.now() + 3_000
        while (live.size > 0 && Date.now() < deadline) await sleep(100)
        await Promise.race([l.cleanup(), sleep(l.cleanupMillis ?? 3_000)])
      })().finally(() => process.exit(signal === "SIGINT" ? 130 : 143))
    })
  }
}

/** Prints why the run failed; for a server that failed, its output too. */
const reportFailure = (e: unknown) => {
  if (e instanceof ServerError) {
    console.error(`\nERROR: ${e.message}`)
    console.error(`--- server stderr ---\n${e.server.stderr.toString() || "(empty)"}`)
    console.error(`--- server stdout ---\n${e.server.stdout.toString() || "(empty)"}`)
  } else {
    console.error("\nERROR:", e)
  }
}

/**
 * Runs a benchmark's `main` with exit handlers installed and exits: 0 when it is done, 1 when it
 * failed. After a signal the handler is already stopping everything and exits by itself.
 */
export const runBenchmark = (main: () => Promise<void>, l: Lifecycle) => {
  installExitHandlers(l)
  main().then(
    () => process.exit(0),
    async (e: unknown) => {
      if (interrupted) return
      reportFailure(e)
      await l.onFailure?.()
      process.exit(1)
    }
  )
}
