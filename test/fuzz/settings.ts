/**
 * How much the fuzz suite runs. In CI: a fixed seed and a few dozen cases per class. `npm run fuzz`
 * (FUZZ_LONG=1): a random seed, printed, and many more cases. Every setting can be overridden:
 *
 * - FUZZ_SEED      the seed (a run is reproduced by its seed and FUZZ_RUNS)
 * - FUZZ_RUNS      the base number of cases per class (each class runs a share of it)
 * - FUZZ_CLASSES   comma-separated class names to run (all by default)
 * - FUZZ_DEADLINE_MS  how long a request may take to be answered (or its connection closed)
 * - FUZZ_MAX_CRASHES  crashes (or missed deadlines) after which a class stops, so a fatal class costs
 *                  a few restarts rather than one per case
 * - FUZZ_APP_DIR   the checkout whose `src/main.ts` is fuzzed (this one by default)
 * - FUZZ_REPORT_DIR   where to write each transport's report as text (not written by default)
 */
import * as path from "node:path"

const env = process.env
const long = env.FUZZ_LONG === "1"
const int = (name: string, fallback: number) => {
  const raw = env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${raw}"`)
  return n
}

export const settings = {
  long,
  seed: int("FUZZ_SEED", long ? Math.floor(Math.random() * 2 ** 31) : 20_261_201),
  runs: int("FUZZ_RUNS", long ? 529 : 40),
  classes: (env.FUZZ_CLASSES ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0),
  /** Generous: the CI machine is small and shared; a request that hangs still fails. */
  deadlineMs: int("FUZZ_DEADLINE_MS", 10_000),
  /**
   * uWS closes a connection that has not sent a complete request within 10 s; the node transport is to
   * match it (issue 11). A slow client's connection must be closed by then, plus a margin.
   */
  headerTimeoutMs: 10_000,
  marginMs: 8_000,
  maxCrashes: int("FUZZ_MAX_CRASHES", 3),
  appDir: path.resolve(env.FUZZ_APP_DIR ?? path.join(import.meta.dirname, "..", "..")),
  reportDir: env.FUZZ_REPORT_DIR,
  limits: { jsonBodyBytes: 64 * 1024, uploadBytes: 1024 * 1024 }
}

/** The server's settings: the limits above, quick password hashing, and no rate limit in the way. */
export const serverSettings: Record<string, string> = {
  PASSWORD_SCRYPT_LOG_N: "10",
  LOG_LEVEL: "error",
  SHUTDOWN_GRACE_MS: "2000",
  MAX_JSON_BODY_BYTES: String(settings.limits.jsonBodyBytes),
  MAX_UPLOAD_BYTES: String(settings.limits.uploadBytes),
  MEDIA_CONCURRENCY: "1",
  RATE_SIGNUPS_PER_IP_PER_HOUR: "1000000",
  RATE_LOGIN_FAILURES_PER_ACCOUNT: "1000000",
  RATE_LOGIN_FAILURES_PER_IP: "1000000",
  RATE_FOLLOWS_PER_HOUR: "1000000",
  RATE_WRITES_PER_MINUTE: "1000000"
}

/** Stable per class, so adding a class does not change the cases of the others. */
export const classSeed = (seed: number, name: string) => {
  let h = seed >>> 0
  for (const c of name) h = (Math.imul(h ^ c.charCodeAt(0), 16_777_619) >>> 0)
  return h | 0
}
