/**
 * A chaos actor host: one process that hosts ONE test kind, `chaos`, on the partitions it leases —
 * started by `actors-chaos.test.ts` with `node --import tsx test/chaos/host.ts` and its whole
 * configuration in the environment (NODE_ID, ACTOR_PARTITIONS, ACTOR_LEASE_TICK_MS,
 * ACTOR_LEASE_TTL_MS, ACTOR_ACK_WAIT_MS, DATABASE_URL, REDIS_URL, NATS_URL, …).
 *
 * It also hosts the real conversation actor (`conversation`), for dm-chaos.test.ts.
 *
 * A `chaos` command `{ seq, slowMs? }` is applied by writing one row into `chaos_applied` (created
 * by the test) through `Fences.transaction(envelope, …)`: the row says which host applied which
 * per-key `seq` and when — `started_at` when the handler began (before its optional sleep),
 * `finished_at` at the insert. A second row for the same (key, seq) — a duplicate effect — goes to
 * `chaos_duplicates` instead, so the checker counts it rather than the handler failing forever.
 *
 * On stdout, one JSON line each: `{"ready":true,…}` once the host is up, then every
 * CHAOS_REPORT_MS (200 ms) `{"owned":[partitions…],"at":<ms>}` from `ActorHost.ownedPartitions`.
 * Logs go to stderr. SIGTERM shuts down gracefully (leases released); SIGKILL is the crash.
 *
 * This is a process entry point (its own `runMain`, like `src/main.ts`): never import it — it
 * refuses to run without CHAOS_HOST=1, so an import cannot start a stray host on the defaults.
 */
import { SqlClient } from "@effect/sql"
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { behaviour } from "../../src/actors/runtime/Actor.ts"
import * as ActorHost from "../../src/actors/runtime/ActorHost.ts"
import * as Fences from "../../src/actors/runtime/Fence.ts"
import { InfraLive } from "../../src/App.ts"
import { AppConfig, layer as ConfigLive } from "../../src/config/AppConfig.ts"
import * as Metrics from "../../src/observability/Metrics.ts"
import * as NodeDirectory from "../../src/streams/NodeDirectory.ts"
import * as Taps from "../../src/streams/Taps.ts"
import * as Conversation from "../../src/actors/conversation/Conversation.ts"
import * as ConversationsRepo from "../../src/db/Conversations.ts"
import * as GraphRepo from "../../src/db/Graph.ts"
import * as MediaUrls from "../../src/media/MediaUrls.ts"
import * as Inbox from "../../src/streams/Inbox.ts"
import { Chaos } from "./kind.ts"


const chaosBehaviour = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const fences = yield* Fences.Fences
  const config = yield* AppConfig
  const host = config.nodeId
  return behaviour({
    kind: Chaos,
    hydrate: () => Effect.succeed(null),
    receive: (state, command, envelope) =>
      Effect.gen(function*() {
        // the database's clock, like finished_at, so both ends of the interval compare exactly
        const [started] = yield* sql<{ t: string }>`SELECT clock_timestamp()::text AS t`
        if (command.slowMs !== undefined && command.slowMs > 0) yield* Effect.sleep(command.slowMs)
        yield* fences.transaction(
          envelope,
          Effect.gen(function*() {
            const inserted = yield* sql`
              INSERT INTO chaos_applied (key, seq, host, stream_seq, epoch, started_at, finished_at)
              VALUES (${envelope.key}, ${command.seq}, ${host}, ${envelope.seq}, ${envelope.epoch}, ${started!.t}::timestamptz, clock_timestamp())
              ON CONFLICT (key, seq) DO NOTHING
              RETURNING id`
            if (inserted.length === 0) {
              yield* sql`
                INSERT INTO chaos_duplicates (key, seq, host, stream_seq, epoch, started_at, finished_at)
                VALUES (${envelope.key}, ${command.seq}, ${host}, ${envelope.seq}, ${envelope.epoch}, ${started!.t}::timestamptz, clock_timestamp())`
            }
          })
        )
        return state
      })
  })
})

// the real conversation actor too, for the direct-message chaos (dm-chaos.test.ts)
const HostLive = Layer.unwrapEffect(Effect.map(Effect.all([chaosBehaviour, Conversation.make]), (b) => ActorHost.layer(b))).pipe(
  Layer.provideMerge(Layer.mergeAll(Metrics.layer, Fences.layer, Taps.layer, NodeDirectory.layer, ConversationsRepo.layer, GraphRepo.layer, Inbox.layer, MediaUrls.layer)),
  Layer.provideMerge(InfraLive),
  Layer.provideMerge(ConfigLive)
)

const reportMillis = Number(process.env.CHAOS_REPORT_MS ?? 200)
const line = (json: unknown) => process.stdout.write(`${JSON.stringify(json)}\n`)

const program = Effect.gen(function*() {
  const host = yield* ActorHost.ActorHost
  line({ ready: true, node: host.nodeId, pid: process.pid, at: Date.now() })
  for (;;) {
    const owned = yield* host.ownedPartitions
    line({ owned, at: Date.now() })
    yield* Effect.sleep(reportMillis)
  }
})

const level = process.env.LOG_LEVEL === "debug" ? LogLevel.Debug : process.env.LOG_LEVEL === "info" ? LogLevel.Info : LogLevel.Warning

if (process.env.CHAOS_HOST !== "1") throw new Error("test/chaos/host.ts is a process entry point (CHAOS_HOST=1); import ./kind.ts instead")

program.pipe(
  Effect.provide(HostLive),
  Logger.withMinimumLogLevel(level),
  // stdout carries the JSON reports only
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.map(Logger.logfmtLogger, (s) => void process.stderr.write(`${s}\n`)))),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
