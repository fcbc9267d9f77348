/**
 * `/ws` on uWS: authenticated at upgrade (ticket or same-origin cookie), then handed to the
 * gateway behind the transport-neutral `WsConnection`. Every callback is guarded: nothing thrown
 * here may reach uWS.
 */
import { Effect, Exit, Option } from "effect"
import type * as UWS from "uWebSockets.js"
import type { AppConfigShape } from "../../config/AppConfig.ts"
import { CloseCode } from "../../domain/Ws.ts"
import { type Auth, clientAddress } from "../Auth.ts"
import type { WsConnection } from "../ws/Connection.ts"
import type { Gateway } from "../ws/Gateway.ts"

interface SocketData {
  readonly id: string
  readonly userId: string
  readonly sessionKey: string
  readonly remoteAddress: string
  open: boolean
  conn?: WsConnection
}

const UNAVAILABLE = JSON.stringify({
  error: { code: "ServiceUnavailable", message: "sessions cannot be checked right now; try again shortly" }
})
const REFUSED = JSON.stringify({ error: { code: "Unauthorized", message: "sign in, or pass a ticket from POST /api/v1/auth/ws-ticket" } })

export const behaviour = (options: {
  readonly config: AppConfigShape
  readonly auth: Auth["Type"]
  readonly gateway: Gateway["Type"]
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => { addObserver: (f: (exit: Exit.Exit<A, E>) => void) => void }
  readonly guard: (where: string, f: () => void) => void
}): UWS.WebSocketBehavior<SocketData> => {
  const { auth, config, gateway, guard, runFork } = options
  return {
    // frames over the limit are closed with 1009 in `message`; uWS cuts off far larger ones itself
    maxPayloadLength: config.limits.wsMaxFrameBytes * 4,
    idleTimeout: config.limits.wsIdleTimeoutSeconds,
    // the gateway closes with 1013 at the configured limit; this is uWS's hard stop above it
    maxBackpressure: config.limits.wsMaxBufferedBytes * 2,
    closeOnBackpressureLimit: 1,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) =>
      guard("ws upgrade", () => {
        const key = req.getHeader("sec-websocket-key")
        const protocol = req.getHeader("sec-websocket-protocol")
        const extensions = req.getHeader("sec-websocket-extensions")
        const headers: Record<string, string> = {}
        req.forEach((k, v) => {
          headers[k] = v
        })
        const ticket = new URLSearchParams(req.getQuery() ?? "").get("ticket") ?? undefined
        const remoteAddress = clientAddress(headers, Buffer.from(res.getRemoteAddressAsText()).toString(), config.trustProxy)
        let aborted = false
        res.onAborted(() => {
          aborted = true
        })
        runFork(auth.upgrade({ headers, ticket })).addObserver((exit) =>
          guard("ws upgrade", () => {
            if (aborted) return
            const owner = Exit.isSuccess(exit) ? Option.getOrUndefined(exit.value) : undefined
            res.cork(() => {
              if (Exit.isFailure(exit)) {
                res.writeStatus("503 Service Unavailable").writeHeader("content-type", "application/json").end(UNAVAILABLE)
                return
              }
              if (owner === undefined) {
                res.writeStatus("401 Unauthorized").writeHeader("content-type", "application/json").end(REFUSED)
                return
              }
              const data: SocketData = { id: crypto.randomUUID(), userId: owner.userId, sessionKey: owner.sessionKey, remoteAddress, open: false }
              res.upgrade(data, key, protocol, extensions, context)
            })
          })
        )
      }),
    open: (ws) =>
      guard("ws open", () => {
        const data = ws.getUserData()
        data.open = true
        const conn: WsConnection = {
          id: data.id,
          userId: data.userId,
          sessionKey: data.sessionKey,
          remoteAddress: data.remoteAddress,
          send: (text) => {
            if (!data.open) return "closed"
            // sends happen outside uWS callbacks (after NATS or database reads): cork them, as uWS requires
            let r = 2
            ws.cork(() => {
              r = ws.send(text, false)
            })
            return r === 1 ? "sent" : r === 0 ? "buffered" : "closed"
          },
          bufferedAmount: () => (data.open ? ws.getBufferedAmount() : 0),
          close: (code, reason) => {
            if (data.open) {
              data.open = false
              ws.cork(() => ws.end(code, reason))
            }
          },
          isOpen: () => data.open
        }
        data.conn = conn
        // the gateway subscribes to NATS and reads the database: starting that from inside a uWS
        // callback (re-entering the event loop's I/O there) killed sockets; run it on the next turn
        setImmediate(() => runFork(gateway.open(conn)))
      }),
    message: (ws, message) =>
      guard("ws message", () => {
        const conn = ws.getUserData().conn
        if (conn === undefined) return
        if (message.byteLength > config.limits.wsMaxFrameBytes) return conn.close(CloseCode.tooBig, "frame too large")
        const text = Buffer.from(message).toString("utf8")
        setImmediate(() => runFork(gateway.message(conn, text)))
      }),
    close: (ws) =>
      guard("ws close", () => {
        const data = ws.getUserData()
        data.open = false
        const conn = data.conn
        if (conn) setImmediate(() => runFork(gateway.close(conn)))
      })
  }
}
