/**
 * Observe benchmark: what the actor inspector and the admins' live tail cost (issue: inspector and
 * live tail), in one run on a database of its own:
 *
 *   1. The cost of observing on fan-out (fanout.ts): bench/fanout's workload — its seed (one author,
 *      BENCH_FOLLOWERS followers, every timeline filled to the cap), one server with ROLES=api,actors,
 *      bursts of BENCH_BURST posts committed straight into the outbox, timeline inserts/s until every
 *      follower timeline holds them — with no observer and with one admin observing everything over
 *      `/ws` (`observe {}`), both in every round on the same server, for BENCH_OBSERVE_ROUNDS rounds.
 *      Goal: with the observer at least 95 % of the inserts/s without. Then the same with
 *      OBSERVE_MAX_PER_SECOND raised (BENCH_OBSERVE_RAISED_LIMIT) on a new server, so that the
 *      observer receives every tap, for BENCH_OBSERVE_RAISED_ROUNDS rounds.
 *   2. The inspector with BENCH_OBSERVE_ACTORS (10,000) live timeline actors on two nodes
 *      (inspector.ts, probes.ts): `GET /admin/actors` one at a time and at BENCH_OBSERVE_RATE req/s,
 *      one actor's detail, and the overview's parts timed alone. Goal: overview p99 < 100 ms.
 *
 * Prints a table, writes bench/observe/results.json, and removes the run's database, NATS streams
 * and KV buckets, and Redis keys.
 *
 * Env: BENCH_OBSERVE_PHASES (cost,raised,inspector: any subset), BENCH_OBSERVE_ROUNDS (16),
 * BENCH_OBSERVE_RAISED_ROUNDS (6), BENCH_OBSERVE_RAISED_LIMIT (100000), BENCH_BURST (20),
 * BENCH_FOLLOWERS (5000), BENCH_TIMELINE_FILL (800), BENCH_OBSERVE_ACTORS (10000),
 * BENCH_OBSERVE_OVERVIEWS (300), BENCH_OBSERVE_DETAILS (200), BENCH_OBSERVE_RATE (20),
 * BENCH_OBSERVE_RATE_SECONDS (15), BENCH_OBSERVE_PROBES (30), BENCH_OBSERVE_WAKE_CHUNK (1000: commands
 * published before waiting for their actors), BENCH_DATABASE_URL (a database of
 * its own otherwise; one given is kept), BENCH_SERVER_ROOT, BENCH_SERVER_CPU_PROFILE=<dir> (a
 * .cpuprofile of each fan-out burst with the observer, and of the first inspector node over the
 * one-at-a-time overviews; read them with bench/support/profile-top.ts). Run: `npm run bench:observe`.
 */
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { fmtInt, machineInfo, writeJson } from "../accounts/report.ts"
import { startServer, stopServer } from "../accounts/server.ts"
import { connectRedis, fillTimelines, keysOf } from "../fanout/run.ts"
import * as Seed from "../fanout/seed.ts"
import { baseServerEnv, benchDatabaseUrl, cpuProfileEnv, envInt, SERVER_ROOT, serverSource } from "../support/env.ts"
import { cleanupPrefixes, prefixesOf, removeLeftovers, runBenchmark } from "../support/lifecycle.ts"
import { dropDatabase } from "../support/pgdb.ts"
import { adminUsername, signUpAdmin } from "./admin.ts"
import { type CostResult, type FanoutContext, measureObserverCost } from "./fanout.ts"
import { type InspectorResult, measureInspector } from "./inspector.ts"
import { type Goals, summarise } from "./report.ts"

const settings = {
  phases: (process.env["BENCH_OBSERVE_PHASES"] || "cost,raised,inspector").split(",").map((p) => p.trim()),
  rounds: envInt("BENCH_OBSERVE_ROUNDS", 16),
  raisedRounds: envInt("BENCH_OBSERVE_RAISED_ROUNDS", 6),
  raisedLimit: envInt("BENCH_OBSERVE_RAISED_LIMIT", 100_000),
  burst: envInt("BENCH_BURST", 20),
  followers: envInt("BENCH_FOLLOWERS", 5_000),
  timelineFill: envInt("BENCH_TIMELINE_FILL", 800),
  partitions: 64,
  inspector: {
    actors: envInt("BENCH_OBSERVE_ACTORS", 10_000),
    partitions: 64,
    overviewRequests: envInt("BENCH_OBSERVE_OVERVIEWS", 300),
    detailRequests: envInt("BENCH_OBSERVE_DETAILS", 200),
    rate: envInt("BENCH_OBSERVE_RATE", 20),
    rateSeconds: envInt("BENCH_OBSERVE_RATE_SECONDS", 15),
    wakeTimeoutMillis: 240_000,
    wakeChunk: envInt("BENCH_OBSERVE_WAKE_CHUNK", 1_000),
    probeRounds: envInt("BENCH_OBSERVE_PROBES", 30)
  },
  actorIdleMillis: 600_000,
  goals: { withObserverShare: 0.95, overviewP99Ms: 100 } satisfies Goals
} as const

const OWN_DATABASE = process.env["BENCH_DATABASE_URL"] === undefined
const runId = randomBytes(4).toString("hex")
const DATABASE_URL = benchDatabaseUrl(`aperture_bench_observe_${runId}`)
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
/** Figure 1's servers share one pair of prefixes (the filled timelines), figure 2's nodes another. */
const fanoutPrefixes = prefixesOf(`benchobs${runId}`)
const inspectorPrefixes = prefixesOf(`benchobi${runId}`)
const ADMIN = adminUsername(runId)
let databaseCreated = false

const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`)

const fanoutEnv = (extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  ...baseServerEnv("uws", DATABASE_URL, fanoutPrefixes),
  ROLES: "api,actors",
  ADMIN_USERNAMES: ADMIN,
  // BENCH_SERVER_CPU_PROFILE: one .cpuprofile per burst with the observer
  ...cpuProfileEnv("signal"),
  ...extra
})

const inspectorEnv = (node: string): Record<string, string> => ({
  ...baseServerEnv("uws", DATABASE_URL, inspectorPrefixes),
  ROLES: "api,actors",
  NODE_ID: `obs-${node}-${runId}`,
  ADMIN_USERNAMES: ADMIN,
  ACTOR_PARTITIONS: String(settings.inspector.partitions),
  ACTOR_IDLE_MS: String(settings.actorIdleMillis),
  ...(node === "a" ? cpuProfileEnv("signal") : {})
})

const main = async () => {
  const startedAt = new Date()
  const has = (phase: string) => settings.phases.includes(phase)
  log(`Observe benchmark (${os.cpus().length} CPUs, node ${process.version}, run ${runId}, database ${DATABASE_URL})`)
  // the server creates and migrates the database; then bench/fanout's seed goes in
  databaseCreated = true
  await stopServer(await startServer(SERVER_ROOT, fanoutEnv()))
  const marker = await Seed.seed(DATABASE_URL, settings.followers)
  log(`seeded 1 author and ${fmtInt(marker.followers)} followers in ${marker.seedSeconds} s`)
  const redis = connectRedis(fanoutPrefixes.redis)
  const db = new pg.Client({ connectionString: DATABASE_URL })
  const costs: Array<CostResult> = []
  let inspector: InspectorResult | undefined
  try {
    await db.connect()
    const followers = await Seed.followerIds(DATABASE_URL, marker.authorId)
    await fillTimelines(redis, followers, settings.timelineFill)
    log(`filled ${fmtInt(followers.length)} timelines with ${settings.timelineFill} entries each`)
    const ctx: FanoutContext = {
      databaseUrl: DATABASE_URL,
      natsPrefix: fanoutPrefixes.nats,
      db,
      redis,
      authorId: marker.authorId,
      keys: keysOf(followers),
      burstPosts: settings.burst,
      partitions: settings.partitions,
      admin: undefined,
      adminUsername: ADMIN,
      log
    }
    if (has("cost")) costs.push(await measureObserverCost(ctx, "default limit", fanoutEnv(), settings.rounds))
    if (has("raised")) {
      costs.push(await measureObserverCost(ctx, "raised limit", fanoutEnv({ OBSERVE_MAX_PER_SECOND: String(settings.raisedLimit) }), settings.raisedRounds))
    }
    if (has("inspector")) {
      if (ctx.admin === undefined) {
        // no fan-out phase ran: sign the admin up on a server of its own first
        const server = await startServer(SERVER_ROOT, fanoutEnv())
        try {
          ctx.admin = await signUpAdmin(server, ADMIN)
        } finally {
          await stopServer(server)
        }
      }
      inspector = await measureInspector(ctx.admin, inspectorPrefixes.nats, DATABASE_URL, [inspectorEnv("a"), inspectorEnv("b")], settings.inspector, log)
    }
  } finally {
    await db.end().catch(() => undefined)
    redis.disconnect()
  }
  const rows = summarise(costs, inspector, settings.goals, settings.inspector)
  writeJson(RESULTS_PATH, {
    date: startedAt.toISOString(),
    machine: machineInfo(),
    settings,
    server: serverSource(),
    seed: marker,
    table: rows,
    cost: costs,
    inspector
  })
}

const cleanup = () =>
  removeLeftovers([
    { what: `NATS streams and Redis keys of prefix ${fanoutPrefixes.nats}`, remove: () => cleanupPrefixes(fanoutPrefixes) },
    { what: `NATS streams and Redis keys of prefix ${inspectorPrefixes.nats}`, remove: () => cleanupPrefixes(inspectorPrefixes) },
    ...(databaseCreated && OWN_DATABASE ? [{ what: `database of ${DATABASE_URL}`, remove: () => dropDatabase(DATABASE_URL) }] : [])
  ])

runBenchmark(() => main().finally(cleanup), { stopMessage: "stopping the servers", cleanup, cleanupMillis: 10_000 })
