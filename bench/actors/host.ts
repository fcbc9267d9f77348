/**
 * One benchmark host process for bench/actors/run.ts, run with `node --import tsx`:
 *
 * - BENCH_HOST_MODE=actors (the default): `ActorHost.layer([noop, write])` on top of `CoreLive`,
 *   configured from the environment like a production node (NODE_ID, ACTOR_PARTITIONS,
 *   ACTOR_LEASE_TTL_MS…). Two kinds: `bnoop`, whose receive does nothing, and `bwrite`, whose
 *   receive does one fenced Redis write (FENCE_LUA + INCR of the key's counter, one EVALSHA). A
 *   command with `probe: true` also records when it was handled in Redis (`bench:probe:<id>`),
 *   for the handover measurement. SIGTERM shuts down as src/main.ts does (leases drained and
 *   released); SIGKILL is a crash.
 * - BENCH_HOST_MODE=raw: no actors, no Effect: one durable pull consumer (BENCH_RAW_STREAM /
 *   BENCH_RAW_CONSUMER, created by run.ts) read with `consumer.consume()`, each message acked.
 *
 * Either way, every 100 ms a line `BENCH {json}` on stdout: the partitions owned, commands handled
 * so far (both kinds), the wall-clock time (ms, sub-ms precision) of the last one handled, and
 * how many receives failed (retried in place by the runtime) with their first reasons, and the
 * event loop's worst delay since the previous line.
 * Logs go to stderr.
 */
import { NodeRuntime } from "@effect/platform-node"
import { jetstream } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Cause, Duration, Effect, Layer, Logger, LogLevel, Schedule } from "effect"
import { behaviour } from "../../src/actors/runtime/Actor.ts"
import * as ActorHost from "../../src/actors/runtime/ActorHost.ts"
import { FENCE_LUA, fenceKey, fencedReply } from "../../src/actors/runtime/Fence.ts"
import { CoreLive } from "../../src/App.ts"
import { layer as ConfigLive } from "../../src/config/AppConfig.ts"
import { jsonLogger } from "../../src/observability/Logging.ts"
import { Redis } from "../../src/redis/Redis.ts"
import { BenchNoop, BenchWrite } from "./kinds.ts"

const now = () => performance.timeOrigin + performance.now()

const stats = { handled: 0, lastAt: 0, failed: 0, errors: [] as Array<string> }
/** A receive that failed (it is retried in place): counted, its first distinct reasons kept. */
const failedOne = (e: unknown) =>
  Effect.sync(() => {
    stats.failed++
    const text = e instanceof Error ? e.message : String(e)
    if (stats.errors.length < 5 && !stats.errors.includes(text)) stats.errors.push(text)
  })
const failedCause = (cause: Cause.Cause<unknown>) => (Cause.isInterruptedOnly(cause) ? Effect.void : failedOne(Cause.squash(cause)))
const handledOne = () => {
  stats.handled++
  stats.lastAt = now()
}

// the event loop's worst delay since the previous line: a loop stalled past a renewal's or a Redis
// command's timeout fails them even when their replies are already in the socket
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()

const line = (owned: ReadonlyArray<number>) => {
  const lagMaxMs = loopDelay.max / 1e6
  loopDelay.reset()
  process.stdout.write(`BENCH ${JSON.stringify({ t: now(), owned, ...stats, lagMaxMs })}\n`)
}

// ---------------------------------------------------------------------------------------------
// Raw JetStream consumer

const runRaw = async () => {
  const nc = await connect({ servers: process.env["NATS_URL"] ?? "nats://127.0.0.1:4222", timeout: 3000 })
  const js = jetstream(nc)
  const consumer = await js.consumers.get(process.env["BENCH_RAW_STREAM"]!, process.env["BENCH_RAW_CONSUMER"]!)
  const timer = setInterval(() => line([]), 100)
  const stop = () => {
    clearInterval(timer)
    void nc.close().finally(() => process.exit(0))
  }
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
  // the same pull size as an actor partition's (max(ACTOR_MAILBOX_CAPACITY, 16) = 64)
  const messages = await consumer.consume({ max_messages: Number(process.env["BENCH_RAW_MAX_MESSAGES"] ?? 64), expires: 5000 })
  const ackAck = process.env["BENCH_RAW_ACK"] === "ackAck"
  line([])
  for await (const m of messages) {
    if (ackAck) await m.ackAck()
    else m.ack()
    handledOne()
  }
}

// ---------------------------------------------------------------------------------------------
// Actor host

const PROBE_TTL_SECONDS = 3600

const Behaviours = Effect.gen(function*() {
  const redis = yield* Redis
  redis.client.defineCommand("benchFencedIncr", { numberOfKeys: 2, lua: `${FENCE_LUA}\nreturn redis.call('INCR', KEYS[2])` })
  const client = redis.client as typeof redis.client & { benchFencedIncr(fence: string, counter: string, epoch: number): Promise<number> }
  const probe = (id: string) =>
    Effect.promise(() => redis.client.set(`bench:probe:${id}`, String(now()), "EX", PROBE_TTL_SECONDS))
  const noop = behaviour({
    kind: BenchNoop,
    hydrate: () => Effect.succeed(0),
    receive: (state, command) =>
      Effect.gen(function*() {
        if (command.probe === true) yield* probe(command.id)
        handledOne()
        return state + 1
      }).pipe(Effect.tapErrorCause(failedCause))
  })
  const write = behaviour({
    kind: BenchWrite,
    hydrate: () => Effect.succeed(0),
    receive: (state, command, envelope) =>
      Effect.gen(function*() {
        yield* Effect.tryPromise({
          try: () => client.benchFencedIncr(fenceKey(envelope.partition), `bench:count:${envelope.key}`, envelope.epoch),
          catch: (e) => fencedReply(envelope.partition, envelope.epoch, e) ?? e
        })
        if (command.probe === true) yield* probe(command.id)
        handledOne()
        return state + 1
      }).pipe(Effect.tapErrorCause(failedCause))
  })
  return [noop, write]
})

const Reporter = Layer.scopedDiscard(
  Effect.gen(function*() {
    const host = yield* ActorHost.ActorHost
    yield* host.ownedPartitions.pipe(
      Effect.flatMap((owned) => Effect.sync(() => line(owned))),
      Effect.repeat(Schedule.spaced(Duration.millis(100))),
      Effect.forkScoped
    )
  })
)

const HostLive = Reporter.pipe(
  Layer.provideMerge(Layer.unwrapEffect(Effect.map(Behaviours, (bs) => ActorHost.layer(bs)))),
  Layer.provideMerge(CoreLive),
  Layer.provide(ConfigLive),
  Layer.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(jsonLogger)))
)

if (process.env["BENCH_HOST_MODE"] === "raw") {
  runRaw().catch((e: unknown) => {
    console.error("raw consumer failed:", e)
    process.exit(1)
  })
} else {
  const level = process.env["LOG_LEVEL"] === "info" ? LogLevel.Info : LogLevel.Warning
  Layer.launch(HostLive).pipe(
    Logger.withMinimumLogLevel(level),
    Effect.tapErrorCause((cause) => Effect.logError("bench host failed", cause)),
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
  )
}
