/**
 * The transactional outbox: an event is written with its domain row or not at all, and reaches
 * JetStream in commit order with its id as Nats-Msg-Id — also when NATS is down while the writes
 * happen and comes back later (none lost, none duplicated).
 */
import { SqlClient } from "@effect/sql"
import { assert, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, LogLevel } from "effect"
import { WorkerNodeLive } from "../src/App.ts"
import { OutboxRepo } from "../src/db/Outbox.ts"
import { PostSaved } from "../src/domain/DomainEvents.ts"
import { Nats } from "../src/streams/Nats.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { TestConfig } from "./support/harness.ts"
import { privateNats } from "./support/servers.ts"

/** Each widget's event stands in as a `post.saved` of its own post id: no consumer acts on it. */
const saver = crypto.randomUUID()
const postIds = new Map<string, string>()
const widgetEvent = (name: string) => {
  const postId = crypto.randomUUID()
  postIds.set(postId, name)
  return PostSaved.make({ postId, userId: saver })
}

/** A domain write: one row and its event, in one transaction. */
const createWidget = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* OutboxRepo
    return yield* sql.withTransaction(
      Effect.gen(function*() {
        yield* sql`INSERT INTO widgets (name) VALUES (${name})`
        return yield* outbox.append(widgetEvent(name))
      })
    )
  })

const streamEvents = Effect.gen(function*() {
  const nats = yield* Nats
  const info = yield* Effect.promise(() => nats.jsm.streams.info(nats.name(StreamNames.events)))
  const events: Array<{ id: string; msgId: string | undefined; name: string }> = []
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = yield* Effect.promise(() => nats.jsm.streams.getMessage(nats.name(StreamNames.events), { seq }))
    const body = msg!.json<{ id: string; payload: { postId: string } }>()
    events.push({ id: body.id, msgId: msg!.header.get("Nats-Msg-Id") || undefined, name: postIds.get(body.payload.postId) ?? "?" })
  }
  return events
})

const waitForEvents = (count: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const events = yield* streamEvents.pipe(Effect.catchAllDefect(() => Effect.succeed([])))
      if (events.length >= count) return events
      yield* Effect.sleep("100 millis")
    }
    return yield* streamEvents
  })

it.scopedLive("events survive a NATS outage and arrive once each, in commit order", () =>
  Effect.gen(function*() {
    const nats = yield* privateNats
    const app = WorkerNodeLive.pipe(
      Layer.provideMerge(TestConfig({ natsUrl: nats.url, outbox: { pollMillis: 100, batchSize: 3 } })),
      Layer.provide(Logger.minimumLogLevel(LogLevel.None))
    )
    yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* OutboxRepo
      yield* sql`CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)`

      const before = yield* Effect.forEach(["a1", "a2", "a3", "a4"], createWidget)
      const first = yield* waitForEvents(4)
      assert.deepStrictEqual(first.map((e) => e.name), ["a1", "a2", "a3", "a4"])
      assert.deepStrictEqual(first.map((e) => e.msgId), before.map((e) => e.id))

      yield* nats.stop
      const during = yield* Effect.forEach(["b1", "b2", "b3", "b4", "b5"], createWidget)
      assert.strictEqual(during.length, 5)
      assert.isAtLeast(yield* outbox.backlog, 1)
      yield* nats.start

      const all = yield* waitForEvents(9)
      assert.deepStrictEqual(all.map((e) => e.name), ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "b5"])
      assert.strictEqual(new Set(all.map((e) => e.id)).size, 9)
      for (let i = 0; i < 20 && (yield* outbox.backlog) > 0; i++) yield* Effect.sleep("100 millis")
      assert.strictEqual(yield* outbox.backlog, 0)
      const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM widgets`
      assert.strictEqual(rows[0]!.n, 9)
    }).pipe(Effect.provide(app))
  }), { timeout: 90_000 })

it.scopedLive("a rolled-back write leaves neither its row nor its event; append outside a transaction is refused", () =>
  Effect.gen(function*() {
    const app = WorkerNodeLive.pipe(
      Layer.provideMerge(TestConfig()),
      Layer.provide(Logger.minimumLogLevel(LogLevel.None))
    )
    yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* OutboxRepo
      yield* sql`CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)`
      const failed = yield* createWidget("doomed").pipe(
        Effect.zipRight(Effect.fail("handler failed after the write")),
        sql.withTransaction,
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(failed))
      const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM widgets`
      assert.strictEqual(rows[0]!.n, 0)
      const pending = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox`
      assert.strictEqual(pending[0]!.n, 0)

      const outside = yield* outbox.append(widgetEvent("loose")).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(outside))
      yield* createWidget("kept")
      const events = yield* waitForEvents(1)
      assert.deepStrictEqual(events.map((e) => e.name), ["kept"])
    }).pipe(Effect.provide(app))
  }), { timeout: 60_000 })
