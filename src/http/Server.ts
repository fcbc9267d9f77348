/**
 * Chooses the transport: `uws` (native, the default where it loads), `node` (the standard
 * transport), or `auto` — uWS when its binary loads here, otherwise node, said in one log line.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { ApiHandlers, HandlerServices } from "./Handlers.ts"
import type { Uws } from "./uws/UwsServer.ts"

// the package is CommonJS: its default export is the module object
const loadUws = Effect.tryPromise(async () => (await import("uWebSockets.js")).default as unknown as Uws)

export const layer = (handlers: ApiHandlers<HandlerServices>) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const config = yield* AppConfig
      if (config.transport === "node") {
        return (yield* Effect.promise(() => import("./node/NodeServer.ts"))).layer(handlers)
      }
      const uws = yield* loadUws.pipe(
        Effect.catchAll((e) =>
          config.transport === "uws"
            ? Effect.dieMessage(`HTTP_TRANSPORT=uws but uWebSockets.js cannot load here: ${e.message}`)
            : Effect.logWarning(`uWebSockets.js cannot load here (${e.message}); serving on the standard node transport`).pipe(
              Effect.as(undefined)
            )
        )
      )
      if (uws === undefined) return (yield* Effect.promise(() => import("./node/NodeServer.ts"))).layer(handlers)
      return (yield* Effect.promise(() => import("./uws/UwsServer.ts"))).layer(uws, handlers)
    })
  )
