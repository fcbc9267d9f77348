/**
 * The transport-independent side of `/ws`: greets with `hello`, answers `ping`, and answers bad
 * frames with an `error` frame — closing with 1008 when a client keeps sending them.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { ClientFrame, CloseCode, type ServerFrame } from "../../domain/Ws.ts"
import { Metrics } from "../../observability/Metrics.ts"
import type { SendResult, WsConnection } from "./Connection.ts"

const MAX_BAD_FRAMES = 5

export interface GatewayShape {
  readonly open: (conn: WsConnection) => Effect.Effect<void>
  readonly message: (conn: WsConnection, text: string) => Effect.Effect<void>
  readonly close: (conn: WsConnection) => Effect.Effect<void>
  readonly openCount: () => number
}

export class Gateway extends Context.Tag("Gateway")<Gateway, GatewayShape>() {}

export const frame = (type: string, payload: unknown, id: number | null = null): string =>
  JSON.stringify({ type, id, ts: new Date().toISOString(), payload } satisfies ServerFrame)

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const metrics = yield* Metrics
  const decode = Schema.decodeUnknownOption(Schema.parseJson(ClientFrame))
  const open = new Map<string, { badFrames: number }>()
  metrics.gauge("aperture_ws_connections", "Open WebSocket connections on this node", Effect.sync(() => open.size))

  const send = (conn: WsConnection, text: string): SendResult => {
    const result = conn.send(text)
    if (result !== "closed" && conn.bufferedAmount() > config.limits.wsMaxBufferedBytes) {
      conn.close(CloseCode.tryAgainLater, "slow consumer")
      return "closed"
    }
    return result
  }

  const badFrame = (conn: WsConnection, message: string) =>
    Effect.sync(() => {
      const state = open.get(conn.id)
      if (state === undefined) return
      state.badFrames++
      send(conn, frame("error", { code: "BadFrame", message }))
      if (state.badFrames >= MAX_BAD_FRAMES) conn.close(CloseCode.policyViolation, "too many bad frames")
    })

  return Gateway.of({
    open: (conn) =>
      Effect.sync(() => {
        open.set(conn.id, { badFrames: 0 })
        send(conn, frame("hello", { userId: conn.userId, inboxSeq: 0, connectionId: conn.id }))
      }),
    message: (conn, text) => {
      const parsed = decode(text)
      if (Option.isNone(parsed)) return badFrame(conn, "frames are JSON {type, payload}; see the WebSocket section of the API")
      switch (parsed.value.type) {
        case "ping":
          return Effect.sync(() => void send(conn, frame("pong", {})))
        case "resume":
        case "typing":
          // inbox replay and typing arrive with the real-time issue; say so rather than ignore it
          return Effect.sync(() =>
            void send(conn, frame("error", { code: "Unsupported", message: `${parsed.value.type} is not available yet` }))
          )
      }
    },
    close: (conn) => Effect.sync(() => void open.delete(conn.id)),
    openCount: () => open.size
  })
})

export const layer = Layer.effect(Gateway, make)
