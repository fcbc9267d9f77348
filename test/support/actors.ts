/**
 * The actor-runtime tests' common setup: the services an `ActorHost` runs on (with `Actors` for
 * sending), and hosts started and stopped inside a test — several per process, each in its own
 * scope, so a test can stop one (SIGTERM-like: closing the scope drains and releases its leases).
 */
import { Context, Effect, Layer, Logger, LogLevel, Scope } from "effect"
import type { AnyBehaviour } from "../../src/actors/runtime/Actor.ts"
import * as ActorHost from "../../src/actors/runtime/ActorHost.ts"
import * as Actors from "../../src/actors/runtime/Actors.ts"
import { CoreLive } from "../../src/App.ts"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { TestConfig } from "./harness.ts"

/** `Actors` on `CoreLive` with these settings; logs below `logLevel` (Error) are dropped. */
export const actorTestLayer = (settings: Partial<AppConfigShape>, logLevel: LogLevel.LogLevel = LogLevel.Error) =>
  Actors.layer.pipe(
    Layer.provideMerge(CoreLive),
    Layer.provideMerge(TestConfig(settings)),
    Layer.provide(Logger.minimumLogLevel(logLevel))
  )

/** A host of the behaviours `behaviours` builds, in a scope of its own. */
export const startActorHost = <E, R>(behaviours: Effect.Effect<ReadonlyArray<AnyBehaviour>, E, R>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const host = Layer.unwrapEffect(Effect.map(behaviours, (bs) => ActorHost.layer(bs)))
    const context = yield* Layer.buildWithScope(host, scope)
    return { host: Context.get(context, ActorHost.ActorHost), scope }
  })
