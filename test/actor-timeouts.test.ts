/**
 * Bounded in time: a handler step that never finishes is interrupted after
 * ACTOR_HANDLER_TIMEOUT_MS (the partition's watchdog, see `bounded` in ActorHost.ts), counts as a
 * failed attempt, is retried in place and, after ACTOR_MAX_DELIVER attempts, dead-lettered — and
 * the key goes on with its next command. A slow step that finishes in time is not interrupted.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import { behaviour, kind } from "../src/actors/runtime/Actor.ts"
import * as Actors from "../src/actors/runtime/Actors.ts"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { Nats } from "../src/streams/Nats.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { actorTestLayer, startActorHost } from "./support/actors.ts"
import { until } from "./support/harness.ts"

const Hang = kind({ name: "hang", command: Schema.Struct({ n: Schema.Number, hang: Schema.optional(Schema.Boolean), slowMs: Schema.optional(Schema.Number) }) })

const started = new Map<number, number>()
const finished: Array<number> = []

const hangBehaviour = behaviour({
  kind: Hang,
  hydrate: () => Effect.succeed(null),
  receive: (state, command) =>
    Effect.gen(function*() {
      started.set(command.n, (started.get(command.n) ?? 0) + 1)
      if (command.hang) yield* Effect.never
      if (command.slowMs) yield* Effect.sleep(command.slowMs)
      finished.push(command.n)
      return state
    })
})

const TIMEOUT = 1000
const settings: Partial<AppConfigShape> = {
  actorPartitions: 2,
  actors: { idleMillis: 5000, mailboxCapacity: 16, maxDeliver: 2, leaseTickMillis: 250, askTimeoutMillis: 3000 },
  actorRuntime: { leaseTtlMillis: 3000, ackWaitMillis: 5000, maxAckPending: 64, mailboxMaxMessages: 10_000, handlerTimeoutMillis: TIMEOUT, parkAfter: 64 }
}

const Base = actorTestLayer(settings)

describe("handler time limits", () => {
  layer(Base, { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("a step that never returns is interrupted, retried in place, dead-lettered; the key goes on", () =>
      Effect.gen(function*() {
        const actors = yield* Actors.Actors
        const nats = yield* Nats
        const { host, scope } = yield* startActorHost(Effect.succeed([hangBehaviour]))
        yield* until(host.ownedPartitions, (o) => o.length === 2)
        yield* actors.send(Hang, "k1", { n: 1, hang: true })
        yield* actors.send(Hang, "k1", { n: 2, slowMs: TIMEOUT / 2 })
        yield* actors.send(Hang, "k1", { n: 3 })
        yield* until(Effect.sync(() => finished.length), (n) => n === 2, 20_000)
        // tried ACTOR_MAX_DELIVER (2) times, never finished; the next two ran in order, once each
        assert.strictEqual(started.get(1), 2)
        assert.deepStrictEqual(finished, [2, 3])
        assert.strictEqual(started.get(2), 1)
        const dlq = nats.name(StreamNames.actorDlq)
        const letters = yield* until(Effect.promise(() => nats.jsm.streams.info(dlq).then((i) => i.state.messages)), (n) => n === 1)
        assert.strictEqual(letters, 1)
        const letter = yield* Effect.promise(() => nats.jsm.streams.getMessage(dlq, { seq: 1 }))
        const record = letter!.json<{ key: string; deliveries: number; error: string; payload: { n: number } }>()
        assert.strictEqual(record.key, "k1")
        assert.strictEqual(record.payload.n, 1)
        assert.strictEqual(record.deliveries, 2)
        assert.match(record.error, /took longer than 1000 ms/)
        yield* Scope.close(scope, Exit.void)
      }))
  })
})
