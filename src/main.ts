/**
 * The one entry point: reads the configuration, sets up JSON logging, builds the Layers for this
 * process's roles and runs until SIGTERM/SIGINT, then releases everything in reverse order —
 * stop accepting, finish in-flight requests, close sockets, drain NATS, close pools — and exits 0.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Layer, Logger, LogLevel } from "effect"
import { PortInUse } from "./http/PortInUse.ts"
import * as Logging from "./observability/Logging.ts"
import { AppLive } from "./App.ts"
import { AppConfig, describe, layer as ConfigLive } from "./config/AppConfig.ts"

const levels = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
} as const

const program = Effect.gen(function*() {
  const config = yield* AppConfig
  yield* Effect.logInfo("aperture starting").pipe(Effect.annotateLogs("config", describe(config)))
  return yield* Layer.launch(AppLive).pipe(Logger.withMinimumLogLevel(levels[config.logLevel]))
})

program.pipe(
  Effect.provide(ConfigLive),
  Effect.provide(Logging.layer),
  Effect.tapErrorCause((cause) => {
    // a taken port is an operator's everyday mistake: one line that names the setting, no trace
    const failure = Cause.failureOption(cause)
    if (failure._tag === "Some" && failure.value instanceof PortInUse) return Effect.logError(failure.value.message)
    return Effect.logError("aperture failed to start", cause)
  }),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
