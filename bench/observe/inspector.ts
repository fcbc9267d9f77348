/**
 * Figure 2, the inspector with 10,000 live actors on two nodes: two servers (ROLES=api,actors,
 * their own NODE_ID and port, one database and one pair of prefixes, ACTOR_IDLE_MS long enough
 * that nothing is passivated meanwhile) split the partitions 32/32; one `Rebuild` command per
 * random user id is published straight to its MAILBOX subject (`<prefix>.mbox.timeline.<p>.<key>`,
 * JetStream, a msgID each), `wakeChunk` at a time until the inspector counts that many actors
 * alive; then, as the admin:
 *
 *   - `GET /api/v1/admin/actors` (default limit 20) one at a time, alternating the two nodes;
 *   - the same at a fixed rate (open loop, bench/accounts/load.ts `paced`, latency from each due time);
 *   - `GET /api/v1/admin/actors/timeline/<key>` one at a time, woken keys, alternating nodes;
 *   - the parts of an overview timed from this process alone (probes.ts).
 */
import { jetstream } from "@nats-io/jetstream"
import { connect as connectNats } from "@nats-io/transport-node"
import { randomUUID } from "node:crypto"
import { type CpuUse, type LoadResult, paced, withCpu } from "../accounts/load.ts"
import { fmtInt } from "../accounts/report.ts"
import { assertAlive, type Server, ServerError, sleep, startServer, stopServer } from "../accounts/server.ts"
import { mailboxSubject, partitionOf } from "../../src/actors/runtime/Actor.ts"
import { percentile } from "../fanout/run.ts"
import { profileWindow, SERVER_ROOT } from "../support/env.ts"
import { natsUrl } from "../support/lifecycle.ts"
import { backendPids } from "../support/pgdb.ts"
import { type Admin, bearer, keepAlive, type Timed, timedGet } from "./admin.ts"
import { type Latency, latencyOf, type Probes, probeParts } from "./probes.ts"

export interface InspectorSettings {
  readonly actors: number
  readonly partitions: number
  readonly overviewRequests: number
  readonly detailRequests: number
  readonly rate: number
  readonly rateSeconds: number
  readonly wakeTimeoutMillis: number
  /** Commands published before waiting for their actors to be alive. */
  readonly wakeChunk: number
  readonly probeRounds: number
}

export interface InspectorResult {
  readonly nodes: ReadonlyArray<string>
  readonly splitMs: number
  readonly split: Readonly<Record<string, number>>
  readonly publishMs: number
  /** From the first publish until the inspector counted every actor alive. */
  readonly wakeMs: number
  readonly liveActors: number
  readonly liveByNode: Readonly<Record<string, number>>
  readonly overview: Latency & { readonly cpu: CpuUse; readonly bytesP50: number; readonly bytesMax: number; readonly missingAnswers: number }
  /** `answeredInMs` of each node as the asking node measured it, over the one-at-a-time overviews. */
  readonly answeredInMs: Readonly<Record<string, Latency>>
  readonly paced: LoadResult & { readonly cpu: CpuUse }
  readonly detail: Latency & { readonly alive: number; readonly bytesP50: number }
  readonly probes: Probes
}

interface Overview {
  readonly nodes: ReadonlyArray<{ readonly node: string; readonly partitions: number; readonly actors: number; readonly answeredInMs: number }>
  readonly missing: ReadonlyArray<string>
  readonly kinds: ReadonlyArray<{ readonly kind: string; readonly live: number }>
}

const startBoth = async (envs: ReadonlyArray<Readonly<Record<string, string>>>): Promise<Array<Server>> => {
  const started = await Promise.allSettled(envs.map((env) => startServer(SERVER_ROOT, env)))
  const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []))
  const failed = started.find((s) => s.status === "rejected")
  if (failed !== undefined) {
    await Promise.all(ok.map(stopServer))
    throw failed.reason
  }
  return ok
}

/** Polls the overview on the first server until `done` accepts it (every server must stay up); returns it with the time it took. */
const waitFor = async (servers: ReadonlyArray<Server>, admin: Admin, what: string, timeoutMillis: number, done: (o: Overview) => boolean, pollMillis = 1_000) => {
  const server = servers[0]!
  const agent = keepAlive()
  const started = performance.now()
  let last: Overview | undefined
  try {
    for (;;) {
      const r = await timedGet(agent, `${server.baseUrl}/api/v1/admin/actors?limit=1`, admin.token).catch(() => undefined)
      if (r?.status === 200) {
        last = JSON.parse(r.body) as Overview
        if (done(last)) return { overview: last, ms: performance.now() - started }
      }
      if (performance.now() - started > timeoutMillis) {
        throw new ServerError(server, `${what}: not within ${timeoutMillis / 1000} s; last overview ${JSON.stringify(last?.nodes ?? null)}, kinds ${JSON.stringify(last?.kinds ?? null)}`)
      }
      for (const s of servers) assertAlive(s, what)
      await sleep(pollMillis)
    }
  } finally {
    agent.destroy()
  }
}

const liveTimelines = (o: Overview) => o.kinds.find((k) => k.kind === "timeline")?.live ?? 0

/** One `Rebuild` per key on its MAILBOX subject, at most `window` publishes awaiting their PubAck. */
const wake = async (prefix: string, keys: ReadonlyArray<string>, partitions: number, window = 256) => {
  const nc = await connectNats({ servers: natsUrl, timeout: 3000 })
  const js = jetstream(nc, { timeout: 10_000 })
  const payload = new TextEncoder().encode(JSON.stringify({ _tag: "Rebuild", force: false }))
  let next = 0
  const lane = async () => {
    while (next < keys.length) {
      const key = keys[next++]!
      const subject = `${prefix}.${mailboxSubject("timeline", partitionOf(key, partitions), key)}`
      // a PubAck lost to a starved NATS: the same msgID again is deduplicated
      for (let attempt = 1; ; attempt++) {
        try {
          await js.publish(subject, payload, { msgID: `bench-observe-wake-${key}` })
          break
        } catch (e) {
          if (attempt >= 3) throw e
        }
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: window }, lane))
  } finally {
    await nc.close()
  }
}

const parse = (t: Timed): Overview => {
  if (t.status !== 200) throw new Error(`GET /admin/actors answered ${t.status}: ${t.body.slice(0, 300)}`)
  return JSON.parse(t.body) as Overview
}

export const measureInspector = async (
  admin: Admin,
  natsPrefix: string,
  databaseUrl: string,
  envs: ReadonlyArray<Readonly<Record<string, string>>>,
  s: InspectorSettings,
  log: (line: string) => void
): Promise<InspectorResult> => {
  const servers = await startBoth(envs)
  const agent = keepAlive()
  try {
    const nodeCount = servers.length
    const share = Math.floor(s.partitions / nodeCount)
    const split = await waitFor(servers, admin, "the partitions split between the nodes", 120_000, (o) =>
      o.missing.length === 0 && o.nodes.length === nodeCount && o.nodes.every((n) => n.partitions >= share) &&
      o.nodes.reduce((n, x) => n + x.partitions, 0) === s.partitions)
    log(`partitions split in ${(split.ms / 1000).toFixed(1)} s: ${split.overview.nodes.map((n) => `${n.node} ${n.partitions}`).join(", ")}`)

    // woken a chunk at a time: 10,000 hydrations at once queue for the nodes' 20 PostgreSQL
    // connections longer than PG_CONNECT_TIMEOUT_MS, fail, retry and are dead-lettered
    const keys = Array.from({ length: s.actors }, () => randomUUID())
    const wakeStarted = performance.now()
    let publishMs = 0
    let alive: Awaited<ReturnType<typeof waitFor>> | undefined
    for (let at = 0; at < keys.length; at += s.wakeChunk) {
      const chunk = keys.slice(at, at + s.wakeChunk)
      const publishing = performance.now()
      await wake(natsPrefix, chunk, s.partitions)
      publishMs += performance.now() - publishing
      const want = at + chunk.length
      alive = await waitFor(servers, admin, `${fmtInt(want)} live timeline actors`, Math.max(0, s.wakeTimeoutMillis - (performance.now() - wakeStarted)), (o) =>
        o.missing.length === 0 && liveTimelines(o) >= want, 250)
    }
    const wakeMs = performance.now() - wakeStarted
    log(`${fmtInt(liveTimelines(alive!.overview))} live timeline actors after ${(wakeMs / 1000).toFixed(1)} s (${s.wakeChunk} at a time; publishing took ${(publishMs / 1000).toFixed(1)} s): ` +
      alive!.overview.nodes.map((n) => `${n.node} ${fmtInt(n.actors)}`).join(", "))
    await sleep(2_000)

    // one at a time, alternating the asked node
    const url = (i: number, path: string) => `${servers[i % nodeCount]!.baseUrl}${path}`
    for (let i = 0; i < 10; i++) parse(await timedGet(agent, url(i, "/api/v1/admin/actors"), admin.token)) // warm-up
    const samples: Array<Timed> = []
    const answered = new Map<string, Array<number>>()
    let missingAnswers = 0
    profileWindow(servers[0]!.child.pid)
    const one = await withCpu(servers[0]!.child.pid ?? -1, () => backendPids(databaseUrl), async () => {
      for (let i = 0; i < s.overviewRequests; i++) {
        const t = await timedGet(agent, url(i, "/api/v1/admin/actors"), admin.token)
        const o = parse(t)
        samples.push(t)
        if (o.missing.length > 0 || o.nodes.length < nodeCount) missingAnswers++
        for (const n of o.nodes) answered.set(n.node, [...(answered.get(n.node) ?? []), n.answeredInMs])
      }
    })
    profileWindow(servers[0]!.child.pid)
    const overview = {
      ...latencyOf(samples.map((t) => t.ms)),
      cpu: one.cpu,
      bytesP50: percentile(samples.map((t) => t.bytes), 50),
      bytesMax: Math.max(...samples.map((t) => t.bytes)),
      missingAnswers
    }
    log(`GET /admin/actors ×${s.overviewRequests}: p50 ${overview.p50Ms.toFixed(1)} p99 ${overview.p99Ms.toFixed(1)} max ${overview.maxMs.toFixed(1)} ms, ` +
      `${fmtInt(overview.bytesP50)} bytes; answeredInMs ${[...answered].map(([n, v]) => `${n} p50 ${percentile(v, 50)} p99 ${percentile(v, 99)}`).join(", ")}`)

    // a fixed rate, on the first node
    const pacedRun = await withCpu(servers[0]!.child.pid ?? -1, () => backendPids(databaseUrl), () =>
      paced(servers[0]!.baseUrl, () => ({ method: "GET", path: "/api/v1/admin/actors", headers: bearer(admin.token) }), {
        rate: s.rate,
        durationSeconds: s.rateSeconds,
        maxSockets: 8,
        drainMillis: 5_000
      }))
    log(`GET /admin/actors @ ${s.rate}/s for ${s.rateSeconds} s: p50 ${pacedRun.result.p50Ms.toFixed(1)} p99 ${pacedRun.result.p99Ms.toFixed(1)} ms, ` +
      `statuses ${JSON.stringify(pacedRun.result.statuses)}`)

    // one actor's detail, woken keys
    const details: Array<Timed> = []
    let aliveCount = 0
    for (let i = 0; i < s.detailRequests; i++) {
      const t = await timedGet(agent, url(i, `/api/v1/admin/actors/timeline/${keys[(i * 7919) % keys.length]}`), admin.token)
      if (t.status !== 200) throw new Error(`GET /admin/actors/timeline/:key answered ${t.status}: ${t.body.slice(0, 300)}`)
      details.push(t)
      if ((JSON.parse(t.body) as { alive: boolean }).alive) aliveCount++
    }
    const detail = { ...latencyOf(details.map((t) => t.ms)), alive: aliveCount, bytesP50: percentile(details.map((t) => t.bytes), 50) }
    log(`GET /admin/actors/timeline/:key ×${s.detailRequests}: p50 ${detail.p50Ms.toFixed(1)} p99 ${detail.p99Ms.toFixed(1)} ms, ${aliveCount} alive`)

    const probes = await probeParts(natsPrefix, databaseUrl, nodeCount, s.probeRounds)
    for (const server of servers) assertAlive(server, "the inspector measurements")
    const final = parse(await timedGet(agent, url(0, "/api/v1/admin/actors"), admin.token))
    return {
      nodes: final.nodes.map((n) => n.node),
      splitMs: split.ms,
      split: Object.fromEntries(split.overview.nodes.map((n) => [n.node, n.partitions])),
      publishMs,
      wakeMs,
      liveActors: liveTimelines(final),
      liveByNode: Object.fromEntries(final.nodes.map((n) => [n.node, n.actors])),
      overview,
      answeredInMs: Object.fromEntries([...answered].map(([n, v]) => [n, latencyOf(v)])),
      paced: { ...pacedRun.result, cpu: pacedRun.cpu },
      detail,
      probes
    }
  } finally {
    agent.destroy()
    await Promise.all(servers.map(stopServer))
  }
}
