/**
 * Figure 1, the cost of observing on fan-out: bench/fanout's burst (posts committed back to back
 * straight into the outbox, timeline inserts/s until all 5,000 follower timelines hold them) on one
 * server, alternately with no observer and with one admin tailing everything (`observe {}`), round
 * after round on the same server so that the machine's noise falls on both sides alike. Each round
 * runs both sides, in the order without→with on odd rounds and with→without on even ones.
 *
 * Without an observer the bench listens on `<prefix>.tap.>` itself and expects silence (nothing is
 * tapped while nobody observes); with one, the observer's socket is opened for the burst (fresh
 * ticket, `observe {}`, `observing`, 500 ms for the interest to reach the node) and closed after
 * the next `observe_stats` (so every tap of the burst is counted: received, or dropped by
 * OBSERVE_MAX_PER_SECOND).
 */
import { connect as connectNats, type NatsConnection } from "@nats-io/transport-node"
import type pg from "pg"
import { type CpuUse, withCpu } from "../accounts/load.ts"
import { fmtCores, fmtInt, fmtMs } from "../accounts/report.ts"
import { assertAlive, type Server, ServerError, sleep, startServer, stopServer } from "../accounts/server.ts"
import { type BenchRedis, burst, createProcessing, median } from "../fanout/run.ts"
import { cpuProfileDir, profileWindow, SERVER_ROOT } from "../support/env.ts"
import { natsUrl } from "../support/lifecycle.ts"
import { backendPids } from "../support/pgdb.ts"
import { type Admin, keepAlive, observeEverything, signUpAdmin, type Tail, timedGet } from "./admin.ts"

export interface FanoutContext {
  readonly databaseUrl: string
  readonly natsPrefix: string
  readonly db: pg.Client
  readonly redis: BenchRedis
  readonly authorId: string
  /** Every follower's `tl:<id>` (unprefixed), filled to the cap. */
  readonly keys: ReadonlyArray<string>
  readonly burstPosts: number
  readonly partitions: number
  /** Signed up on the first server (the same database serves every server of the run). */
  admin: Admin | undefined
  readonly adminUsername: string
  readonly log: (line: string) => void
}

export interface Side {
  readonly insertsPerSec: number
  /** From the first COMMIT until every timeline held every post of the burst. */
  readonly ms: number
  readonly committedMs: number
  readonly cpu: CpuUse
}

export interface Round {
  readonly round: number
  readonly order: "without→with" | "with→without"
  readonly without: Side & { readonly tapsPublished: number }
  readonly with: Side & { readonly tail: Tail }
}

export interface CostResult {
  readonly label: string
  readonly env: Readonly<Record<string, string>>
  readonly rounds: ReadonlyArray<Round>
  readonly medianWithout: number
  readonly medianWith: number
  /** median(with) / median(without). */
  readonly ratio: number
  /** The median of each round's with / without. */
  readonly pairedRatio: number
  readonly serverCpuWithout: number
  readonly serverCpuWith: number
  /** Medians of the server's CPU seconds per burst (cores × duration): the same work's cost, less sensitive to what else runs. */
  readonly serverCpuSecondsWithout: number
  readonly serverCpuSecondsWith: number
  /** The median of each round's server CPU seconds with / without. */
  readonly pairedCpuRatio: number
  /** Medians of the cores used by everything outside the server, PostgreSQL's backends and this process. */
  readonly otherCores: number
  /** Per burst with the observer, medians: taps received, dropped by the limit, matched (sent + dropped). */
  readonly observedPerBurst: number
  readonly droppedPerBurst: number
  readonly matchedPerBurst: number
  readonly observedTotal: number
  readonly droppedTotal: number
  readonly maxPerSecond: number
  /** Taps seen on core NATS while nobody observed (must be 0). */
  readonly tapsWhileUnobserved: number
}

interface Overview {
  readonly nodes: ReadonlyArray<{ readonly node: string; readonly partitions: number }>
}

/** Waits until the server holds all `partitions` leases (the inspector says so). */
const waitForLeases = async (server: Server, admin: Admin, partitions: number) => {
  const agent = keepAlive()
  const deadline = Date.now() + 90_000
  try {
    for (;;) {
      const r = await timedGet(agent, `${server.baseUrl}/api/v1/admin/actors?limit=1`, admin.token).catch(() => undefined)
      const owned = r?.status === 200 ? (JSON.parse(r.body) as Overview).nodes.reduce((n, x) => n + x.partitions, 0) : 0
      if (owned >= partitions) return
      if (Date.now() > deadline) throw new ServerError(server, `the server held ${owned}/${partitions} partitions after 90 s`)
      assertAlive(server, "the wait for the partition leases")
      await sleep(500)
    }
  } finally {
    agent.destroy()
  }
}

/** Counts messages on `<prefix>.tap.>` while it is open. */
const tapCounter = (nc: NatsConnection, prefix: string) => {
  let count = 0
  const sub = nc.subscribe(`${prefix}.tap.>`, { callback: () => void count++ })
  return { stop: async () => {
    await nc.flush()
    sub.unsubscribe()
    return count
  } }
}

/**
 * BENCH_SERVER_CPU_PROFILE: one profile per burst, on both sides alike (the profiler's own cost
 * must not fall on one side only); `profiled` lists what each of the server's files holds.
 */
const profiled = new Map<number, Array<string>>()

const oneBurst = async (ctx: FanoutContext, server: Server, side: string): Promise<Side> => {
  const ids = await createProcessing(ctx.db, ctx.authorId, ctx.burstPosts)
  await sleep(500)
  const pid = server.child.pid
  const profile = cpuProfileDir() !== undefined && pid !== undefined
  if (profile) {
    profiled.set(pid, [...(profiled.get(pid) ?? []), side])
    profileWindow(pid)
  }
  const { result, cpu } = await withCpu(server.child.pid ?? -1, () => backendPids(ctx.databaseUrl), () =>
    burst(ctx.db, ctx.redis, ctx.authorId, ctx.keys, ids))
  if (profile) profileWindow(pid)
  assertAlive(server, "a burst")
  return { insertsPerSec: result.insertsPerSec, ms: result.ms, committedMs: result.committedMs, cpu }
}

const withoutObserver = async (ctx: FanoutContext, server: Server, nc: NatsConnection) => {
  const taps = tapCounter(nc, ctx.natsPrefix)
  const side = await oneBurst(ctx, server, "without")
  return { ...side, tapsPublished: await taps.stop() }
}

const withObserver = async (ctx: FanoutContext, server: Server) => {
  const observer = await observeEverything(server, ctx.admin!)
  try {
    const side = await oneBurst(ctx, server, "with")
    // the next observe_stats counts the burst's last second
    await sleep(1_200)
    return { ...side, tail: await observer.close() }
  } catch (e) {
    await observer.close()
    throw e
  }
}

const describe = (s: Side) =>
  `${fmtInt(s.insertsPerSec).padStart(7)} inserts/s (${fmtMs(s.ms)} ms, server ${fmtCores(s.cpu.server)} other ${fmtCores(s.cpu.other)} machine ${fmtCores(s.cpu.machine)} cores)`

/** One server with `env`, warmed up, then `rounds` rounds of both sides. */
export const measureObserverCost = async (
  ctx: FanoutContext,
  label: string,
  env: Readonly<Record<string, string>>,
  rounds: number
): Promise<CostResult> => {
  const nc = await connectNats({ servers: natsUrl, timeout: 3000 })
  const server = await startServer(SERVER_ROOT, env)
  try {
    ctx.admin ??= await signUpAdmin(server, ctx.adminUsername)
    await waitForLeases(server, ctx.admin, ctx.partitions)
    // warm-up, not counted: single posts, then a burst on each side
    const warm = await createProcessing(ctx.db, ctx.authorId, 5)
    for (const id of warm) await burst(ctx.db, ctx.redis, ctx.authorId, ctx.keys, [id])
    const w1 = await withoutObserver(ctx, server, nc)
    const w2 = await withObserver(ctx, server)
    ctx.log(`[${label}] warm-up bursts: without ${describe(w1)}; with ${describe(w2)} (not counted)`)
    const measured: Array<Round> = []
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? "without→with" : "with→without"
      let without: Round["without"]
      let withObs: Round["with"]
      if (order === "without→with") {
        without = await withoutObserver(ctx, server, nc)
        withObs = await withObserver(ctx, server)
      } else {
        withObs = await withObserver(ctx, server)
        without = await withoutObserver(ctx, server, nc)
      }
      measured.push({ round, order, without, with: withObs })
      const t = withObs.tail
      ctx.log(`[${label} ${round}/${rounds}] without ${describe(without)} | with ${describe(withObs)}: ` +
        `${fmtInt(t.observed)} taps received, ${fmtInt(t.dropped)} dropped; ratio ${(withObs.insertsPerSec / without.insertsPerSec).toFixed(3)}` +
        (without.tapsPublished > 0 ? `  (${without.tapsPublished} TAPS WHILE NOBODY OBSERVED)` : ""))
    }
    const med = (f: (r: Round) => number) => median(measured.map(f))
    const medianWithout = med((r) => r.without.insertsPerSec)
    const medianWith = med((r) => r.with.insertsPerSec)
    return {
      label,
      env,
      rounds: measured,
      medianWithout,
      medianWith,
      ratio: medianWith / medianWithout,
      pairedRatio: med((r) => r.with.insertsPerSec / r.without.insertsPerSec),
      serverCpuWithout: med((r) => r.without.cpu.server ?? NaN),
      serverCpuWith: med((r) => r.with.cpu.server ?? NaN),
      serverCpuSecondsWithout: med((r) => ((r.without.cpu.server ?? NaN) * r.without.ms) / 1000),
      serverCpuSecondsWith: med((r) => ((r.with.cpu.server ?? NaN) * r.with.ms) / 1000),
      pairedCpuRatio: med((r) => ((r.with.cpu.server ?? NaN) * r.with.ms) / ((r.without.cpu.server ?? NaN) * r.without.ms)),
      otherCores: median(measured.flatMap((r) => [r.without.cpu.other ?? NaN, r.with.cpu.other ?? NaN])),
      observedPerBurst: med((r) => r.with.tail.observed),
      droppedPerBurst: med((r) => r.with.tail.dropped),
      matchedPerBurst: med((r) => r.with.tail.sent + r.with.tail.dropped),
      observedTotal: measured.reduce((n, r) => n + r.with.tail.observed, 0),
      droppedTotal: measured.reduce((n, r) => n + r.with.tail.dropped, 0),
      maxPerSecond: measured[0]?.with.tail.maxPerSecond ?? NaN,
      tapsWhileUnobserved: measured.reduce((n, r) => n + r.without.tapsPublished, 0) + w1.tapsPublished
    }
  } finally {
    await stopServer(server)
    await nc.close().catch(() => undefined)
    const sides = profiled.get(server.child.pid ?? -1)
    if (sides !== undefined) {
      const file = (i: number) => `server-${server.child.pid}${i === 0 ? "" : `-${i}`}.cpuprofile`
      ctx.log(`[${label}] CPU profiles in ${cpuProfileDir()}: ${sides.map((side, i) => `${file(i)} ${side}`).join(", ")} (the first two are the warm-up)`)
    }
  }
}

