/**
 * Fan-out benchmark: a post by an author with 5,000 followers, through the real pipeline, until
 * every follower's Redis timeline holds it — side by side with raw pipelined ZADD from
 * redis-benchmark (the ceiling).
 *
 *   1. Seed `aperture_bench_fanout` once (see seed.ts): the author, 5,000 followers, the edges.
 *      BENCH_RESEED=1 rebuilds it.
 *   2. Start one server (HTTP_TRANSPORT=uws, ROLES=api,actors: the outbox relay, the fan-out
 *      consumer and the timeline actors), and fill every follower's timeline to TIMELINE_CAP
 *      (800 older entries + the completeness sentinel), so each insert also trims — the steady
 *      state of an active reader rather than an empty sorted set.
 *   3. Publication is simulated exactly as src/media/MediaWorker.ts commits it: in one
 *      transaction the post goes `processing` → `published` (published_at to the millisecond),
 *      `ev.post.published` and the author's `post_ready` inbox frame are appended to the outbox,
 *      and NOTIFY wakes the relay. From the COMMIT the path is the production one: relay →
 *      EVENTS → `timeline-fanout` (score, author, followers paged by keyset, one InsertBatch per
 *      MAILBOX partition) → partition owners → one Lua call per batch.
 *   4. After 5 warm-up posts and one warm-up burst (not counted), per round: BENCH_POSTS posts one after another (each waited for, then a short pause) — the
 *      time from COMMIT until all 5,000 `tl:<id>` hold it, checked by a server-side Lua script
 *      polled every 2 ms (it walks the keys in windows and stops at the first one still missing,
 *      so polling costs Redis almost nothing until the post lands); then a burst of BENCH_BURST
 *      posts committed back to back (timeline inserts/s = 5,000 × posts / time until the last
 *      timeline holds all of them); then `redis-benchmark -t zadd -P 16 -n 1000000 -q`.
 *   5. Print medians over rounds against the goals (all timelines < 500 ms; ≥ 50 % of the raw
 *      ZADD rate), every round's burst (≥ 50,000 inserts/s each) and the worst post of all rounds
 *      (< 1 s), write bench/fanout/results.json, delete the run's posts, NATS streams and
 *      Redis keys.
 *
 * Env: BENCH_ROUNDS (3), BENCH_POSTS (30), BENCH_BURST (20), BENCH_FOLLOWERS (5000),
 * BENCH_TIMELINE_FILL (800), BENCH_RESEED=1, BENCH_DATABASE_URL, BENCH_SERVER_ROOT,
 * BENCH_SERVER_CPU_PROFILE=<dir> (a .cpuprofile of the server during each burst, see bench/media/cpu-profile.mjs).
 * Run: `npm run bench:fanout`.
 */
import { execFile } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { appendFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { connect as connectNats, type NatsConnection } from "@nats-io/transport-node"
import { Redis } from "ioredis"
import pg from "pg"
import { type CpuUse, withCpu } from "../accounts/load.ts"
import { fmtCores, fmtInt, fmtMs, machineInfo, printTable, type Row, writeJson } from "../accounts/report.ts"
import { assertAlive, sleep, startServer, stopServer } from "../accounts/server.ts"
import { baseServerEnv, benchDatabaseUrl, cpuProfileEnv, envInt, profileWindow, SERVER_ROOT } from "../support/env.ts"
import { cleanupPrefixes, natsUrl, prefixesOf, redisUrl, runBenchmark } from "../support/lifecycle.ts"
import { backendPids, databaseName, dropDatabase, reseedRequested, reuseOrRebuild, type SeedInfo } from "../support/pgdb.ts"
import * as Seed from "./seed.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  rounds: envInt("BENCH_ROUNDS", 3),
  postsPerRound: envInt("BENCH_POSTS", 30),
  burst: envInt("BENCH_BURST", 20),
  warmupPosts: 5,
  followers: envInt("BENCH_FOLLOWERS", 5_000),
  timelineFill: envInt("BENCH_TIMELINE_FILL", 800),
  pollMillis: 2,
  /** Keys one poll looks at; it stops at the first missing one, so a poll before the post lands costs one ZSCORE. */
  pollWindow: 500,
  pauseBetweenPostsMillis: 50,
  timeoutMillis: 15_000,
  goals: { allTimelinesMs: 500, shareOfRawZadd: 0.5, burstInsertsPerSec: 50_000, worstPostMs: 1_000 }
} as const

const DATABASE_URL = benchDatabaseUrl("aperture_bench_fanout")
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))

const prefixes = prefixesOf(`benchfan${randomBytes(4).toString("hex")}`)
const serverEnv: Readonly<Record<string, string>> = { ...baseServerEnv("uws", DATABASE_URL, prefixes), ROLES: "api,actors", ...cpuProfileEnv("signal") }

const ensureSeed = async (): Promise<SeedInfo<Seed.Marker>> => {
  if (reseedRequested()) await dropDatabase(DATABASE_URL)
  const existing = await Seed.readMarker(DATABASE_URL)
  return reuseOrRebuild(DATABASE_URL, existing, (m) => m.followers === settings.followers, async () => {
    console.log(`seeding ${databaseName(DATABASE_URL)}: 1 author, ${fmtInt(settings.followers)} followers (starting the server once to migrate)`)
    await stopServer(await startServer(SERVER_ROOT, serverEnv))
    const marker = await Seed.seed(DATABASE_URL, settings.followers)
    console.log(`seeded in ${marker.seedSeconds} s\n`)
    return marker
  })
}

// ---------------------------------------------------------------------------------------------
// Redis: timelines filled beforehand, and the completion check

/** How many of KEYS, from the first, hold ARGV[1]: the scan stops at the first missing key. */
const HOLDS_POST_LUA = `
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], ARGV[1]) == false then return i - 1 end
end
return #KEYS`

/** How many of KEYS, from the first, hold at least ARGV[3] members scored in [ARGV[1], ARGV[2]]. */
const HOLDS_RANGE_LUA = `
local want = tonumber(ARGV[3])
for i = 1, #KEYS do
  if redis.call('ZCOUNT', KEYS[i], ARGV[1], ARGV[2]) < want then return i - 1 end
end
return #KEYS`

export type BenchRedis = Redis & {
  holdsPost(numKeys: number, ...args: Array<string | number>): Promise<number>
  holdsRange(numKeys: number, ...args: Array<string | number>): Promise<number>
}

export const connectRedis = (keyPrefix: string = prefixes.redis): BenchRedis => {
  const redis = new Redis(redisUrl, { keyPrefix, maxRetriesPerRequest: 1 })
  redis.defineCommand("holdsPost", { lua: HOLDS_POST_LUA })
  redis.defineCommand("holdsRange", { lua: HOLDS_RANGE_LUA })
  return redis as BenchRedis
}

const tlKey = (userId: string) => `tl:${userId}`

/**
 * Every follower's timeline as an active reader's: the sentinel plus `fill` entries a year old
 * (random ids), so the cap trims on every insert as it does in steady state.
 */
export const fillTimelines = async (redis: BenchRedis, followers: ReadonlyArray<string>, fill: number) => {
  const base = Date.now() - 365 * 24 * 3600 * 1000
  // the same old posts in every timeline (as if everyone followed the same people): members are
  // per key anyway, and generating millions of ids would dominate the set-up
  const args: Array<string | number> = [-1, "~"]
  for (let i = 0; i < fill; i++) args.push(base + i * 60_000, randomUUID())
  for (let at = 0; at < followers.length; at += 250) {
    const pipeline = redis.pipeline()
    for (const id of followers.slice(at, at + 250)) pipeline.zadd(tlKey(id), ...args)
    await pipeline.exec()
  }
}

/**
 * Waits until `holds(window)` is true for every key: each poll asks about up to `pollWindow`
 * keys from the first not yet confirmed, and polls again at once while it keeps advancing.
 * Returns when the first key was confirmed and when the last was (ms after `t0`).
 */
const waitAll = async (
  keys: ReadonlyArray<string>,
  holds: (window: ReadonlyArray<string>) => Promise<number>,
  t0: number
): Promise<{ firstMs: number; allMs: number; polls: number }> => {
  let at = 0
  let firstMs = NaN
  let polls = 0
  while (at < keys.length) {
    const window = keys.slice(at, at + settings.pollWindow)
    const held = await holds(window)
    polls++
    if (held > 0 && Number.isNaN(firstMs)) firstMs = performance.now() - t0
    at += held
    if (at >= keys.length) break
    if (held < window.length) {
      if (performance.now() - t0 > settings.timeoutMillis) {
        throw new Error(`only ${at}/${keys.length} timelines held the post after ${settings.timeoutMillis} ms`)
      }
      await sleep(settings.pollMillis)
    }
  }
  return { firstMs, allMs: performance.now() - t0, polls }
}

// ---------------------------------------------------------------------------------------------
// Where the time goes: the pipeline's messages seen on core NATS subscriptions

/**
 * Watches the run's `ev.post.published` events and MAILBOX fan-out batches (JetStream publishes
 * are ordinary messages on their subjects), timestamping each post's event and its first and last
 * batch — so a post's latency splits into relay (COMMIT → event), fan-out (event → last batch
 * published) and apply (last batch → every timeline confirmed).
 */
const traceStages = async () => {
  const nc: NatsConnection = await connectNats({ servers: natsUrl, timeout: 3000 })
  const seen = new Map<string, { event?: number; firstBatch?: number; lastBatch?: number; batches: number }>()
  const entry = (postId: string) => {
    let e = seen.get(postId)
    if (e === undefined) seen.set(postId, (e = { batches: 0 }))
    return e
  }
  const decoder = new TextDecoder()
  nc.subscribe(`${prefixes.nats}.ev.post.published`, {
    callback: (_err, msg) => {
      const postId = (JSON.parse(decoder.decode(msg.data)) as { payload: { postId: string } }).payload.postId
      entry(postId).event = performance.now()
    }
  })
  nc.subscribe(`${prefixes.nats}.mbox.timeline.*._batch`, {
    callback: (_err, msg) => {
      const now = performance.now()
      const e = entry((JSON.parse(decoder.decode(msg.data)) as { postId: string }).postId)
      e.firstBatch ??= now
      e.lastBatch = now
      e.batches++
    }
  })
  return { seen, close: () => nc.close() }
}

type Tracer = Awaited<ReturnType<typeof traceStages>>

// ---------------------------------------------------------------------------------------------
// Publication, as MediaWorker commits it

/**
 * What OutboxRepo.append notifies with ('1': @effect/sql-pg's `listen` drops empty payloads, so
 * with '' the relay would wake only on its OUTBOX_POLL_MS poll — BENCH_NOTIFY_PAYLOAD= shows that).
 */
const NOTIFY_PAYLOAD = process.env["BENCH_NOTIFY_PAYLOAD"] ?? "1"

const variantsOf = (postId: string) =>
  Object.fromEntries(["thumbnail", "small", "medium", "large"].map((s, i) => [s, `/media/posts/${postId}/${[150, 320, 640, 1080][i]}.webp`]))

/** Rows as `POST /posts` leaves them: `processing`, waiting for the worker. */
export const createProcessing = async (db: pg.Client, authorId: string, count: number): Promise<Array<string>> => {
  const ids = Array.from({ length: count }, () => randomUUID())
  await db.query(
    `INSERT INTO posts (id, author_id, status, caption, original_key, original_type, original_bytes)
     SELECT id, $2, 'processing', 'bench fan-out', 'originals/' || id || '.jpg', 'image/jpeg', 2500000 FROM unnest($1::uuid[]) AS id`,
    [ids, authorId]
  )
  return ids
}

/**
 * The worker's publishing transaction (src/media/MediaWorker.ts processPost, PostsRepo.publish,
 * OutboxRepo.append/appendMessage): returns the post's feed score once COMMIT has returned.
 */
const publish = async (db: pg.Client, postId: string, authorId: string): Promise<number> => {
  const variants = variantsOf(postId)
  await db.query("BEGIN")
  try {
    const updated = await db.query<{ score: number }>(
      `UPDATE posts SET status = 'published', width = 1080, height = 1350, variants = $2::jsonb,
         placeholder = 'data:image/webp;base64,UklGRh4AAABXRUJQVlA4IBIAAAAwAQCdASoBAAEAAQAcJaQAA3AA/v3AgAA=',
         dominant_color = '#6b8fa3', published_at = date_trunc('milliseconds', now()), failure = NULL
       WHERE id = $1 AND status = 'processing'
       RETURNING floor(extract(epoch FROM published_at) * 1000)::float8 AS score`,
      [postId, JSON.stringify(variants)]
    )
    const payload = { postId, authorId, variants }
    const event = { id: randomUUID(), type: "post.published", occurredAt: new Date().toISOString(), payload }
    await db.query("INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3::jsonb)", [event.id, "ev.post.published", JSON.stringify(event)])
    await db.query("SELECT pg_notify('aperture_outbox', $1)", [NOTIFY_PAYLOAD])
    const frame = { type: "post_ready", ts: new Date().toISOString(), payload }
    await db.query("INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3::jsonb) ON CONFLICT (event_id) DO NOTHING", [
      randomUUID(),
      `inbox.${authorId}`,
      JSON.stringify(frame)
    ])
    await db.query("SELECT pg_notify('aperture_outbox', $1)", [NOTIFY_PAYLOAD])
    await db.query("COMMIT")
    return updated.rows[0]!.score
  } catch (e) {
    await db.query("ROLLBACK")
    throw e
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface PostSample {
  readonly allMs: number
  readonly firstMs: number
  readonly polls: number
  /** COMMIT → the event on EVENTS (the outbox relay). */
  readonly relayMs: number
  /** Event → the last partition batch on MAILBOX (score/author/followers queries, grouping, publishes). */
  readonly fanoutMs: number
  /** Last batch published → every timeline confirmed (partition owners' pulls and Lua calls, plus polling). */
  readonly applyMs: number
  readonly batches: number
}

interface Round {
  readonly round: number
  readonly posts: ReadonlyArray<PostSample>
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly firstP50Ms: number
  readonly stagesP50Ms: { readonly relay: number; readonly fanout: number; readonly apply: number }
  /** 5,000 / median time, one post at a time. */
  readonly sequentialInsertsPerSec: number
  /** `committedMs`: from the first post's COMMIT to the last's (the bench commits them one after another). */
  readonly burst: { readonly posts: number; readonly ms: number; readonly committedMs: number; readonly insertsPerSec: number; readonly cpu: CpuUse }
  readonly rawZaddPerSec: number
}

export const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
export const median = (values: ReadonlyArray<number>) => percentile(values, 50)

export const keysOf = (followers: ReadonlyArray<string>) => followers.map(tlKey)

const onePost = async (
  db: pg.Client,
  redis: BenchRedis,
  tracer: Tracer,
  authorId: string,
  keys: ReadonlyArray<string>,
  postId: string
): Promise<PostSample> => {
  await publish(db, postId, authorId)
  const t0 = performance.now()
  if (process.env["BENCH_TRACE_FILE"]) appendFileSync(process.env["BENCH_TRACE_FILE"], `${Date.now()} - committed ${postId}\n`)
  const done = await waitAll(keys, (w) => redis.holdsPost(w.length, ...w, postId), t0)
  await sleep(5) // the last batch's own message may still be in the tracer's socket buffer
  const stages = tracer.seen.get(postId)
  tracer.seen.delete(postId)
  const event = stages?.event ?? NaN
  const lastBatch = stages?.lastBatch ?? NaN
  return {
    ...done,
    relayMs: event - t0,
    fanoutMs: lastBatch - event,
    applyMs: t0 + done.allMs - lastBatch,
    batches: stages?.batches ?? 0
  }
}

export const burst = async (db: pg.Client, redis: BenchRedis, authorId: string, keys: ReadonlyArray<string>, postIds: ReadonlyArray<string>) => {
  let t0 = NaN
  const scores: Array<number> = []
  for (const id of postIds) {
    scores.push(await publish(db, id, authorId))
    if (Number.isNaN(t0)) t0 = performance.now()
  }
  const committedMs = performance.now() - t0
  const min = Math.min(...scores)
  const max = Math.max(...scores)
  const { allMs } = await waitAll(keys, (w) => redis.holdsRange(w.length, ...w, min, max, postIds.length), t0)
  return { posts: postIds.length, ms: allMs, committedMs, insertsPerSec: (keys.length * postIds.length) / (allMs / 1000) }
}

const execFileAsync = promisify(execFile)

/** `redis-benchmark -t zadd -P 16 -n 1000000 -q`: ZADD requests per second. */
const rawZadd = async (): Promise<number> => {
  const { port, hostname } = new URL(redisUrl)
  const { stdout } = await execFileAsync("redis-benchmark", [
    "-h", hostname || "127.0.0.1", "-p", port || "6379", "-t", "zadd", "-P", "16", "-n", "1000000", "-q"
  ], { maxBuffer: 1 << 20 })
  // the last line is the final figure ("ZADD: 1234567.89 requests per second, p50=… msec"); -q still prints progress with \r
  const m = /ZADD:\s+([\d.]+) requests per second/.exec(stdout.split("\r").pop() ?? "") ?? /ZADD:\s+([\d.]+) requests per second/.exec(stdout)
  if (m === null) throw new Error(`unexpected redis-benchmark output: ${stdout.slice(-300)}`)
  return Number(m[1])
}

const main = async () => {
  const startedAt = new Date()
  console.log(
    `Fan-out benchmark: ${settings.rounds} rounds × (${settings.postsPerRound} posts one at a time + a burst of ${settings.burst}), ` +
      `${fmtInt(settings.followers)} followers (${os.cpus().length} CPUs, node ${process.version}, prefix ${prefixes.nats})`
  )
  const redisHadMyzset = await (async () => {
    const r = new Redis(redisUrl)
    try {
      return (await r.exists("myzset")) === 1
    } finally {
      r.disconnect()
    }
  })()
  const redis = connectRedis()
  const tracer = await traceStages()
  const db = new pg.Client({ connectionString: DATABASE_URL })
  try {
    const seedInfo = await ensureSeed()
    const { authorId } = seedInfo.marker
    if (seedInfo.reused) console.log(`reusing the seed of ${seedInfo.marker.seededAt} (BENCH_RESEED=1 rebuilds it)`)
    await Seed.restore(DATABASE_URL, authorId)
    const followers = await Seed.followerIds(DATABASE_URL, authorId)
    const keys = keysOf(followers)
    const filling = performance.now()
    await fillTimelines(redis, followers, settings.timelineFill)
    console.log(`filled ${fmtInt(followers.length)} timelines with ${settings.timelineFill} entries each (${((performance.now() - filling) / 1000).toFixed(1)} s)`)
    await db.connect()
    const server = await startServer(SERVER_ROOT, serverEnv)
    const rounds: Array<Round> = []
    try {
      // the first posts also wait for the partition leases and warm the JIT and connections
      const warm = await createProcessing(db, authorId, settings.warmupPosts)
      for (const id of warm) {
        const s = await onePost(db, redis, tracer, authorId, keys, id)
        console.log(`warm-up post: all timelines in ${fmtMs(s.allMs)} ms (relay ${fmtMs(s.relayMs)}, fan-out ${fmtMs(s.fanoutMs)}, ` +
          `apply ${fmtMs(s.applyMs)} ms, ${s.batches} batches)`)
      }
      // and one burst, not counted: a burst takes paths single posts do not (several events at
      // once, coalesced partition messages, grouped Lua calls), cold in the first round otherwise
      const warmBurst = await createProcessing(db, authorId, settings.burst)
      await sleep(500)
      const wb = await burst(db, redis, authorId, keys, warmBurst)
      console.log(`warm-up burst of ${wb.posts}: ${fmtMs(wb.ms)} ms → ${fmtInt(wb.insertsPerSec)} inserts/s (not counted)`)
      for (let round = 1; round <= settings.rounds; round++) {
        const ids = await createProcessing(db, authorId, settings.postsPerRound + settings.burst)
        const posts: Array<PostSample> = []
        for (const id of ids.slice(0, settings.postsPerRound)) {
          posts.push(await onePost(db, redis, tracer, authorId, keys, id))
          await sleep(settings.pauseBetweenPostsMillis)
        }
        assertAlive(server, "the sequential posts")
        const all = posts.map((p) => p.allMs)
        await sleep(500)
        // BENCH_SERVER_CPU_PROFILE: one profile per burst
        profileWindow(server.child.pid)
        const { result: b, cpu } = await withCpu(server.child.pid ?? -1, () => backendPids(DATABASE_URL), () =>
          burst(db, redis, authorId, keys, ids.slice(settings.postsPerRound)))
        profileWindow(server.child.pid)
        assertAlive(server, "the burst")
        const raw = await rawZadd()
        const r: Round = {
          round,
          posts,
          p50Ms: median(all),
          p99Ms: percentile(all, 99),
          maxMs: Math.max(...all),
          firstP50Ms: median(posts.map((p) => p.firstMs)),
          stagesP50Ms: {
            relay: median(posts.map((p) => p.relayMs)),
            fanout: median(posts.map((p) => p.fanoutMs)),
            apply: median(posts.map((p) => p.applyMs))
          },
          sequentialInsertsPerSec: keys.length / (median(all) / 1000),
          burst: { ...b, cpu },
          rawZaddPerSec: raw
        }
        rounds.push(r)
        const at = new Date().toISOString().slice(11, 19)
        console.log(
          `${at} [round ${round}/${settings.rounds}] all ${fmtInt(keys.length)} timelines: p50 ${fmtMs(r.p50Ms)} p99 ${fmtMs(r.p99Ms)} ` +
            `max ${fmtMs(r.maxMs)} ms (first follower p50 ${fmtMs(r.firstP50Ms)} ms; stages p50 relay ${fmtMs(r.stagesP50Ms.relay)}, ` +
            `fan-out ${fmtMs(r.stagesP50Ms.fanout)}, apply ${fmtMs(r.stagesP50Ms.apply)} ms); burst of ${b.posts} (committed over ${fmtMs(b.committedMs)} ms): ${fmtMs(b.ms)} ms → ` +
            `${fmtInt(b.insertsPerSec)} inserts/s (CPU server ${fmtCores(cpu.server)} db ${fmtCores(cpu.db)} ` +
            `other ${fmtCores(cpu.other)}); raw ZADD ${fmtInt(raw)}/s`
        )
      }
    } finally {
      await stopServer(server)
    }
    summarise(rounds, seedInfo, startedAt)
  } finally {
    await db.end().catch(() => undefined)
    redis.disconnect()
    await tracer.close().catch(() => undefined)
    if (!redisHadMyzset) {
      // redis-benchmark's own key, left in database 0
      const r = new Redis(redisUrl)
      await r.del("myzset").catch(() => undefined)
      r.disconnect()
    }
    await Seed.restore(DATABASE_URL, (await Seed.readMarker(DATABASE_URL))?.authorId ?? "00000000-0000-0000-0000-000000000000").catch(() => undefined)
    await cleanupPrefixes(prefixes)
  }
}

const summarise = (rounds: ReadonlyArray<Round>, seedInfo: SeedInfo<Seed.Marker>, startedAt: Date) => {
  const med = (f: (r: Round) => number) => median(rounds.map(f))
  const p50 = med((r) => r.p50Ms)
  const p99 = med((r) => r.p99Ms)
  const burstRate = med((r) => r.burst.insertsPerSec)
  const seqRate = med((r) => r.sequentialInsertsPerSec)
  const raw = med((r) => r.rawZaddPerSec)
  const share = burstRate / raw
  const worstPost = Math.max(...rounds.map((r) => r.maxMs))
  const { goals, followers } = settings
  const rows: ReadonlyArray<Row> = [
    { metric: `all ${fmtInt(followers)} timelines hold the post: p50`, value: `${fmtMs(p50)} ms`, goal: "—" },
    { metric: `all ${fmtInt(followers)} timelines hold the post: p99`, value: `${fmtMs(p99)} ms`, goal: `< ${goals.allTimelinesMs} ms`, met: p99 < goals.allTimelinesMs },
    { metric: "  … worst post of all rounds", value: `${fmtMs(worstPost)} ms`, goal: `< ${goals.worstPostMs} ms`, met: worstPost < goals.worstPostMs },
    { metric: "  … first follower's timeline: p50", value: `${fmtMs(med((r) => r.firstP50Ms))} ms`, goal: "—" },
    {
      metric: "  … p50 by stage: relay / fan-out / apply",
      value: `${fmtMs(med((r) => r.stagesP50Ms.relay))} / ${fmtMs(med((r) => r.stagesP50Ms.fanout))} / ${fmtMs(med((r) => r.stagesP50Ms.apply))} ms`,
      goal: "—"
    },
    { metric: "timeline inserts/s, one post at a time", value: `${fmtInt(seqRate)} /s`, goal: "—" },
    { metric: `timeline inserts/s, burst of ${settings.burst} posts: median`, value: `${fmtInt(burstRate)} /s`, goal: "—" },
    // the goal holds for every burst, not for their median
    ...rounds.map((r): Row => ({
      metric: `  … burst, round ${r.round}`,
      value: `${fmtInt(r.burst.insertsPerSec)} /s`,
      goal: `≥ ${fmtInt(goals.burstInsertsPerSec)} /s`,
      met: r.burst.insertsPerSec >= goals.burstInsertsPerSec
    })),
    { metric: "raw ZADD, redis-benchmark -P 16", value: `${fmtInt(raw)} /s`, goal: "—" },
    { metric: "burst inserts / raw ZADD", value: `${(share * 100).toFixed(1)} %`, goal: `≥ ${goals.shareOfRawZadd * 100} %`, met: share >= goals.shareOfRawZadd },
    { metric: "one post at a time / raw ZADD", value: `${((seqRate / raw) * 100).toFixed(1)} %`, goal: "—" },
    { metric: "server CPU during the burst", value: `${fmtCores(med((r) => r.burst.cpu.server ?? NaN))} cores`, goal: "—" }
  ]
  printTable(rows)
  console.log(`(medians over ${rounds.length} rounds of ${settings.postsPerRound} posts; with ${settings.postsPerRound} posts a p99 is the slowest of them)`)
  writeJson(RESULTS_PATH, {
    date: startedAt.toISOString(),
    machine: machineInfo(),
    settings: { ...settings, transport: "uws", roles: serverEnv["ROLES"] },
    seed: { ...seedInfo.marker, reused: seedInfo.reused },
    table: rows,
    medians: { p50Ms: p50, p99Ms: p99, burstInsertsPerSec: burstRate, sequentialInsertsPerSec: seqRate, rawZaddPerSec: raw, share },
    worstPostMs: worstPost,
    burstInsertsPerSecByRound: rounds.map((r) => r.burst.insertsPerSec),
    rounds
  })
}

// bench/observe imports the helpers above: the benchmark runs only when this file is the entry point
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runBenchmark(main, { stopMessage: "stopping the server", cleanup: () => cleanupPrefixes(prefixes) })
}
