/** Benchmark settings from the environment, shared by every benchmark, and the server's environment. */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { REPO_ROOT } from "../accounts/server.ts"
import type { Prefixes } from "./lifecycle.ts"

export const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer; got "${raw}"`)
  return n
}

/** BENCH_DATABASE_URL, or the benchmark's own database on the local server. */
export const benchDatabaseUrl = (name: string) => process.env["BENCH_DATABASE_URL"] ?? `postgres://postgres@127.0.0.1:5432/${name}`

// ---------------------------------------------------------------------------------------------
// The server

/** Where the measured server runs from: this checkout, or BENCH_SERVER_ROOT (e.g. a `git archive` export while this tree is mid-edit). */
export const SERVER_ROOT = process.env["BENCH_SERVER_ROOT"] || REPO_ROOT

/** Which code was measured: the commit of the server's checkout and whether its src/ had edits. */
export const serverSource = () => {
  const git = (...args: Array<string>) => execFileSync("git", ["-C", SERVER_ROOT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  try {
    return { root: SERVER_ROOT, commit: git("rev-parse", "HEAD"), srcModified: git("status", "--porcelain", "src").length > 0 }
  } catch {
    return { root: SERVER_ROOT, commit: null, srcModified: null } // not a git checkout, e.g. an export
  }
}

/** What every benchmarked server runs with: quiet logs, the benchmark's database, the run's prefixes. */
export const baseServerEnv = (transport: string, databaseUrl: string, prefixes: Prefixes) => ({
  HTTP_TRANSPORT: transport,
  LOG_LEVEL: "warning",
  DATABASE_URL: databaseUrl,
  NATS_PREFIX: prefixes.nats,
  REDIS_KEY_PREFIX: prefixes.redis
})

// the limits exist to stop abuse; a benchmark is one address doing a lot on purpose
export const UNLIMITED = "100000000"
export const NO_RATE_LIMITS = {
  RATE_SIGNUPS_PER_IP_PER_HOUR: UNLIMITED,
  RATE_LOGIN_FAILURES_PER_ACCOUNT: UNLIMITED,
  RATE_LOGIN_FAILURES_PER_IP: UNLIMITED,
  RATE_FOLLOWS_PER_HOUR: UNLIMITED,
  RATE_WRITES_PER_MINUTE: UNLIMITED
} as const

/** bench/media/cpu-profile.mjs: preloaded, it writes the server's CPU profile at exit (`--cpu-prof` is refused in NODE_OPTIONS). */
export const CPU_PROFILE_HOOK = new URL("../media/cpu-profile.mjs", import.meta.url).href

/** BENCH_SERVER_CPU_PROFILE: the directory a server's .cpuprofile goes to; undefined when unset. */
export const cpuProfileDir = (): string | undefined => {
  const dir = process.env["BENCH_SERVER_CPU_PROFILE"]
  return dir === undefined || dir === "" ? undefined : path.resolve(dir)
}

/**
 * The server's environment for a CPU profile, when BENCH_SERVER_CPU_PROFILE asks for one: of the
 * whole run, or (`"signal"`) of each stretch the benchmark brackets with `profileWindow`.
 */
export const cpuProfileEnv = (window: "run" | "signal" = "run"): Readonly<Record<string, string>> => {
  const dir = cpuProfileDir()
  return dir === undefined
    ? {}
    : { NODE_OPTIONS: `--import ${CPU_PROFILE_HOOK}`, BENCH_SERVER_CPU_PROFILE: dir, BENCH_SERVER_CPU_PROFILE_WINDOW: window }
}

/** Starts (then, called again, writes) the CPU profile of a server run with `cpuProfileEnv("signal")`. */
export const profileWindow = (pid: number | undefined) => {
  if (cpuProfileDir() !== undefined && pid !== undefined) process.kill(pid, "SIGUSR2")
}
