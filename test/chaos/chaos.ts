/**
 * The chaos suite's machinery (used by `actors-chaos.test.ts`): actor host processes
 * (`host.ts`) that can be killed, frozen and restarted; a TCP proxy in front of nats-server that
 * cuts one host from NATS only; a load generator; and the checker over `chaos_applied`.
 */
import { SqlClient } from "@effect/sql"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as readline from "node:readline"
import { Effect, Redacted } from "effect"
import { partitionOf } from "../../src/actors/runtime/Actor.ts"
import { Actors } from "../../src/actors/runtime/Actors.ts"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { Chaos } from "./kind.ts"

export const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** The runtime settings every chaos host gets (the new ones are read by the rewritten runtime only). */
export interface ChaosSettings {
  readonly partitions: number
  readonly leaseTickMs: number
  readonly leaseTtlMs: number
  readonly ackWaitMs: number
  readonly maxDeliver: number
  /** ACTOR_PARK_AFTER of the hosts. */
  readonly parkAfter: number
}

// ---------------------------------------------------------------------------------------------
// host processes

export interface HostProcess {
  readonly name: string
  /** NODE_ID: what its rows in chaos_applied name as `host`. */
  readonly nodeId: string
  /** Partitions from the latest report, and when it was printed. */
  owned: ReadonlyArray<number>
  ownedAt: number
  readyAt: number | undefined
  running: boolean
  frozen: boolean
  readonly child: () => ChildProcess | undefined
  readonly start: Effect.Effect<void>
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** SIGKILL (or `signal`), waiting for the exit. */
  readonly kill: (signal?: NodeJS.Signals) => Effect.Effect<void>
  readonly waitReady: (timeoutMs: number) => Effect.Effect<number>
  readonly log: () => string
}

export const hostEnv = (config: AppConfigShape, s: ChaosSettings, nodeId: string, natsUrl: string): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "",
  CHAOS_HOST: "1",
  NODE_ID: nodeId,
  ROLES: "actors",
  ACTOR_PARTITIONS: String(s.partitions),
  ACTOR_LEASE_TICK_MS: String(s.leaseTickMs),
  ACTOR_LEASE_TTL_MS: String(s.leaseTtlMs),
  ACTOR_ACK_WAIT_MS: String(s.ackWaitMs),
  ACTOR_MAX_DELIVER: String(s.maxDeliver),
  // low, so that keys whose commands queue up (slow handlers, a partition that just moved) park
  // and go through PARKED under every fault too
  ACTOR_PARK_AFTER: String(s.parkAfter),
  ACTOR_IDLE_MS: "5000",
  SHUTDOWN_GRACE_MS: "5000",
  DATABASE_URL: Redacted.value(config.databaseUrl),
  REDIS_URL: Redacted.value(config.redisUrl),
  REDIS_KEY_PREFIX: config.redisKeyPrefix,
  NATS_URL: natsUrl,
  NATS_PREFIX: config.natsPrefix,
  LOG_LEVEL: process.env.CHAOS_HOST_LOG_LEVEL ?? "warning"
})

/** A `host.ts` process that can be started again after it died; killed when the scope closes. */
export const hostProcess = (name: string, env: Record<string, string>) =>
  Effect.gen(function*() {
    let child: ChildProcess | undefined
    const tail: Array<string> = []
    // CHAOS_LOG_DIR=<dir>: every host's stderr (its logs) also in <dir>/<name>.log
    const logDir = process.env.CHAOS_LOG_DIR
    const keep = (s: string) => {
      if (logDir !== undefined) fs.appendFileSync(path.join(logDir, `${name}.log`), `${new Date().toISOString()} ${s}\n`)
      tail.push(s)
      if (tail.length > 200) tail.shift()
    }
    const host: HostProcess = {
      name,
      nodeId: env.NODE_ID ?? name,
      owned: [],
      ownedAt: 0,
      readyAt: undefined,
      running: false,
      frozen: false,
      child: () => child,
      start: Effect.sync(() => {
        host.owned = []
        host.ownedAt = 0
        host.readyAt = undefined
        host.frozen = false
        const c = spawn(process.execPath, ["--import", "tsx", "test/chaos/host.ts"], { env, stdio: ["ignore", "pipe", "pipe"] })
        child = c
        host.running = true
        readline.createInterface({ input: c.stdout! }).on("line", (l) => {
          if (child !== c) return
          try {
            const msg = JSON.parse(l) as { ready?: boolean; owned?: Array<number>; at: number }
            if (msg.ready === true) host.readyAt = msg.at
            if (msg.owned !== undefined) {
              host.owned = msg.owned
              host.ownedAt = msg.at
            }
          } catch {
            keep(`stdout: ${l}`)
          }
        })
        readline.createInterface({ input: c.stderr! }).on("line", (l) => keep(l))
        c.once("exit", (code, sig) => {
          keep(`exited ${code ?? ""} ${sig ?? ""}`)
          if (child === c) {
            host.running = false
            host.owned = []
          }
        })
      }),
      signal: (sig) =>
        Effect.sync(() => {
          child?.kill(sig)
          if (sig === "SIGSTOP") host.frozen = true
          if (sig === "SIGCONT") host.frozen = false
        }),
      kill: (sig = "SIGKILL") =>
        Effect.async<void>((resume) => {
          const c = child
          if (c === undefined || c.exitCode !== null || c.signalCode !== null) return resume(Effect.void)
          c.once("exit", () => resume(Effect.void))
          if (sig !== "SIGKILL") c.kill("SIGCONT")
          c.kill(sig)
        }),
      waitReady: (timeoutMs) =>
        Effect.gen(function*() {
          const deadline = Date.now() + timeoutMs
          while (host.readyAt === undefined) {
            if (!host.running) return yield* Effect.dieMessage(`host ${name} exited before it was ready:\n${host.log()}`)
            if (Date.now() > deadline) return yield* Effect.dieMessage(`host ${name} not ready within ${timeoutMs} ms:\n${host.log()}`)
            yield* sleep(50)
          }
          return host.readyAt
        }),
      log: () => tail.slice(-40).join("\n")
    }
    yield* Effect.addFinalizer(() => host.kill())
    return host
  })

/** The partitions owned, per the reports printed after `since`, by running, unfrozen hosts. */
export const ownedBy = (hosts: ReadonlyArray<HostProcess>, since: number) => {
  const owned = new Map<number, Array<string>>()
  for (const h of hosts) {
    if (!h.running || h.frozen || h.ownedAt <= since) continue
    for (const p of h.owned) owned.set(p, [...(owned.get(p) ?? []), h.name])
  }
  return owned
}

/**
 * Waits until `hosts` (fresh reports after `since`) own every partition — and with `balanced`,
 * each at least its even share; the time it happened, or undefined.
 */
export const allOwned = (hosts: ReadonlyArray<HostProcess>, partitions: number, since: number, timeoutMs: number, balanced = false) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    const share = Math.floor(partitions / Math.max(1, hosts.length))
    for (;;) {
      const covered = ownedBy(hosts, since).size === partitions
      if (covered && (!balanced || hosts.every((h) => h.owned.length >= share))) return Date.now() as number | undefined
      if (Date.now() > deadline) return undefined
      yield* sleep(50)
    }
  })

// ---------------------------------------------------------------------------------------------
// a NATS partition: a TCP proxy that one host connects through

export interface NatsProxy {
  readonly url: string
  /** Drops every connection through the proxy and refuses new ones until `heal`. */
  readonly cut: Effect.Effect<void>
  readonly heal: Effect.Effect<void>
}

export const natsProxy = (upstreamPort: number) =>
  Effect.gen(function*() {
    const sockets = new Set<net.Socket>()
    let cut = false
    const server = net.createServer((client) => {
      if (cut) return void client.destroy()
      const upstream = net.connect(upstreamPort, "127.0.0.1")
      sockets.add(client)
      sockets.add(upstream)
      const close = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on("error", close).on("close", close)
      upstream.on("error", close).on("close", close)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    const port = yield* Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      })
    )
    return {
      url: `nats://127.0.0.1:${port}`,
      cut: Effect.sync(() => {
        cut = true
        for (const s of sockets) s.destroy()
        sockets.clear()
      }),
      heal: Effect.sync(() => void (cut = false))
    } satisfies NatsProxy
  })

// ---------------------------------------------------------------------------------------------
// load

export interface Load {
  /** Per key: every seq sent (attempted) and every seq acknowledged (PubAck received). */
  readonly sent: Map<string, Array<number>>
  readonly acked: Map<string, Array<number>>
  /** When each acknowledged (key, seq) was acknowledged. */
  readonly ackedAt: Map<string, number>
  readonly stop: Effect.Effect<void>
  /** Waits until every key finished (its last send acknowledged or given up on). */
  readonly done: Effect.Effect<void>
}

export interface LoadOptions {
  readonly prefix: string
  readonly keys: number
  /** Keys are chosen so that key k lands on partition k mod `partitions` (every host gets some). */
  readonly partitions: number
  readonly perKey: number
  /** Pause between two sends of one key. */
  readonly intervalMs: number
  /** `slowMs` of a command, if any (slow handlers). */
  readonly slow?: (key: number, seq: number) => number | undefined
}

/**
 * K keys sending concurrently, each one command at a time: seq 1, 2, … awaiting each PubAck
 * before the next (a failed publish is retried with the same msg id — deduplicated by JetStream —
 * so one key's commands stay in order), until `perKey` were sent or `stop`.
 */
export const startLoad = (o: LoadOptions) =>
  Effect.gen(function*() {
    const actors = yield* Actors
    const sent = new Map<string, Array<number>>()
    const acked = new Map<string, Array<number>>()
    const ackedAt = new Map<string, number>()
    let stopped = false
    // FNV-1a over similar keys clusters: pick each key's suffix so the keys cover every partition
    const keyOf = (k: number) => {
      for (let i = 0; ; i++) {
        const key = `${o.prefix}-${k}-${i}`
        if (partitionOf(key, o.partitions) === k % o.partitions) return key
      }
    }
    const oneKey = (k: number) =>
      Effect.gen(function*() {
        const key = keyOf(k)
        sent.set(key, [])
        acked.set(key, [])
        for (let seq = 1; seq <= o.perKey && !stopped; seq++) {
          sent.get(key)!.push(seq)
          const slowMs = o.slow?.(k, seq)
          const command = slowMs === undefined ? { seq } : { seq, slowMs }
          const giveUp = Date.now() + 60_000
          for (;;) {
            const r = yield* Effect.either(actors.send(Chaos, key, command, { msgId: `${key}-${seq}` }))
            if (r._tag === "Right") {
              acked.get(key)!.push(seq)
              ackedAt.set(`${key}/${seq}`, Date.now())
              break
            }
            if (Date.now() > giveUp) return
            yield* sleep(200)
          }
          yield* sleep(o.intervalMs)
        }
      })
    const fiber = yield* Effect.forkScoped(Effect.forEach(Array.from({ length: o.keys }, (_, k) => k), oneKey, { concurrency: "unbounded", discard: true }))
    return {
      sent,
      acked,
      ackedAt,
      stop: Effect.sync(() => void (stopped = true)),
      done: Effect.asVoid(fiber.await)
    } satisfies Load
  })

// ---------------------------------------------------------------------------------------------
// the checker

export const createTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const table of ["chaos_applied", "chaos_duplicates"]) {
    yield* sql.unsafe(`
      CREATE TABLE IF NOT EXISTS ${table} (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        seq int NOT NULL,
        host text NOT NULL,
        stream_seq bigint NOT NULL,
        epoch bigint NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL
        ${table === "chaos_applied" ? ", UNIQUE (key, seq)" : ""}
      )`)
  }
})

interface Row {
  readonly key: string
  readonly seq: number
  readonly host: string
  readonly startedMs: number
  readonly finishedMs: number
}

const rowsOf = (table: "chaos_applied" | "chaos_duplicates", prefix: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ key: string; seq: number; host: string; startedMs: number; finishedMs: number }>`
      SELECT key, seq, host,
        (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
        (extract(epoch FROM finished_at) * 1000)::float8 AS finished_ms
      FROM ${sql(table)} WHERE key LIKE ${`${prefix}-%`}
      ORDER BY finished_at, id`.pipe(
      Effect.map((rows): ReadonlyArray<Row> => rows.map((r) => ({ ...r, startedMs: Number(r.startedMs), finishedMs: Number(r.finishedMs) })))
    )).pipe(Effect.orDie)

/** The acknowledged commands not applied yet. */
export const missing = (load: Load, prefix: string) =>
  Effect.map(rowsOf("chaos_applied", prefix), (rows) => {
    const applied = new Set(rows.map((r) => `${r.key}/${r.seq}`))
    let n = 0
    for (const [key, seqs] of load.acked) for (const s of seqs) if (!applied.has(`${key}/${s}`)) n++
    return n
  })

/**
 * Waits until every acknowledged command was applied, or nothing more was applied for `quietMs`
 * (a backlog of slow commands still makes progress; lost commands make none).
 */
export const settle = (load: Load, prefix: string, quietMs: number) =>
  Effect.gen(function*() {
    let last = -1
    let progressAt = Date.now()
    for (;;) {
      const left = yield* missing(load, prefix)
      if (left === 0) return
      if (left !== last) {
        last = left
        progressAt = Date.now()
      }
      if (Date.now() - progressAt > quietMs) return
      yield* sleep(250)
    }
  })

/**
 * When a host cannot hold a lease: its rows finished within (from, to) — and, with
 * `startedBefore`, begun before that — were written after its lease had certainly expired.
 */
export interface ZombieWindow {
  readonly host: string
  readonly from: number
  readonly to: number
  readonly startedBefore?: number
}

export interface Verdict {
  readonly fault: string
  readonly sent: number
  readonly acknowledged: number
  readonly applied: number
  readonly lost: number
  readonly duplicated: number
  readonly reordered: number
  readonly overlapping: number
  /** Rows written by a host inside one of its zombie windows (a write under an expired lease). */
  readonly zombie: number
  /** From the fault until every key with an acknowledged send after it had a command applied after it. */
  readonly recoverMs: number | null
  /** From the fault until the healthy hosts' reports covered every partition. */
  readonly ownedMs: number | null
  readonly notes?: string
}

/**
 * Per key, from `chaos_applied` (ordered by finished_at, then id), `chaos_duplicates` and the
 * acknowledged sends:
 *
 * - lost: an acknowledged seq with no row (after the run settled);
 * - duplicated: a row in chaos_duplicates (a second effect of one (key, seq));
 * - reordered: a row whose seq is lower than the seq of a row applied before it (send order is
 *   seq order, since one key's sends wait for each other's PubAck);
 * - overlapping: a row R of key k by host H such that some row R' of k by another host H' has
 *   R'.started_at ≤ R.started_at < R'.finished_at — R began while another host was still applying
 *   the same key (started_at is the handler's start, before any slow sleep; finished_at the
 *   database clock at the insert, inside the fenced transaction). Every overlapping pair counts
 *   once, on the row that started later. Both ends come from PostgreSQL's clock, so hosts' clocks
 *   do not enter into it;
 * - zombie: a row a host wrote inside one of its `ZombieWindow`s — for a host frozen past its TTL,
 *   a row begun before the thaw and finished after it; for a host cut from NATS, a row finished
 *   between a TTL (and two ticks) after the cut and the heal, when it cannot hold any lease.
 */
export const check = (
  fault: string,
  load: Load,
  prefix: string,
  faultAt: number,
  ownedAt: number | undefined,
  zombies: ReadonlyArray<ZombieWindow>,
  notes?: string
) =>
  Effect.gen(function*() {
    const rows = yield* rowsOf("chaos_applied", prefix)
    const duplicates = yield* rowsOf("chaos_duplicates", prefix)
    const byKey = new Map<string, Array<Row>>()
    for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r])
    let lost = 0
    let reordered = 0
    let overlapping = 0
    let recoverMs: number | null = 0
    for (const [key, seqs] of load.acked) {
      const applied = byKey.get(key) ?? []
      const have = new Set(applied.map((r) => r.seq))
      for (const s of seqs) if (!have.has(s)) lost++
      let max = -Infinity
      for (const r of applied) {
        if (r.seq < max) reordered++
        max = Math.max(max, r.seq)
      }
      const byStart = [...applied].sort((a, b) => a.startedMs - b.startedMs)
      const open = new Map<string, number>() // host → latest finished_at of its rows so far
      for (const r of byStart) {
        for (const [h, finished] of open) if (h !== r.host && finished > r.startedMs) { overlapping++; break }
        open.set(r.host, Math.max(open.get(r.host) ?? -Infinity, r.finishedMs))
      }
      // recovery: the first row after the fault, for a key that sent (and had acknowledged) after it
      const sentAfter = seqs.some((s) => (load.ackedAt.get(`${key}/${s}`) ?? 0) > faultAt)
      if (sentAfter && recoverMs !== null) {
        const first = applied.find((r) => r.finishedMs > faultAt)
        recoverMs = first === undefined ? null : Math.max(recoverMs, first.finishedMs - faultAt)
      }
    }
    const zombie = rows.filter((r) =>
      zombies.some((z) => z.host === r.host && r.finishedMs > z.from && r.finishedMs < z.to && (z.startedBefore === undefined || r.startedMs < z.startedBefore))
    ).length
    const count = (m: Map<string, Array<number>>) => [...m.values()].reduce((n, s) => n + s.length, 0)
    const verdict: Verdict = {
      fault,
      sent: count(load.sent),
      acknowledged: count(load.acked),
      applied: rows.length,
      lost,
      duplicated: duplicates.length,
      reordered,
      overlapping,
      zombie,
      recoverMs: recoverMs === null ? null : Math.round(recoverMs),
      ownedMs: ownedAt === undefined ? null : Math.max(0, ownedAt - faultAt),
      ...(notes === undefined ? {} : { notes })
    }
    return verdict
  })

export const formatTable = (verdicts: ReadonlyArray<Verdict>) => {
  const cols = ["fault", "sent", "acknowledged", "applied", "lost", "duplicated", "reordered", "overlapping", "zombie", "recoverMs", "ownedMs"] as const
  const cells = verdicts.map((v) => cols.map((c) => String(v[c] ?? "—")))
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const fmt = (r: ReadonlyArray<string>) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ")
  return [fmt(cols), ...cells.map(fmt)].join("\n")
}
