/**
 * `/ws` on uWS: authenticated at upgrade (ticket or same-origin cookie), then handed to the
 * gateway behind the transport-neutral `WsConnection`. Every callback is guarded: nothing thrown
 * here may reach uWS.
 *
 * The upgrade completes after an await, and never inside `res.cork` of its own response: in the
 * uWS we pin (npm:uwebsockets@3.0.6, uWebSockets before #1929) `HttpResponse::cork` runs its
 * end-of-response check after the callback, and after an upgrade it reads the HTTP state from
 * memory the realloc in `upgrade` just freed (the WebSocket is smaller, so it stays at the same
 * address and the "has it upgraded" pointer test misses it). When that memory was reused in
 * between with the "Connection: close" bit set, it shut down and closed the fresh socket right
 * after `open`: no close frame, 1006 on the client, before `hello` (issue 12). So the upgrade runs
 * while another of our sockets holds the cork — `res.cork` then only calls its callback — or, with
 * no other socket here, uncorked (uWS prints its "must be corked" warning).
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
  /** Whether anything was sent on it (for the debug line of a socket dropped before `hello`). */
  sent?: boolean
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
  // other sockets that can hold the cork while a response upgrades (see the top of the file)
  const openSockets = new Set<UWS.WebSocket<SocketData>>()
  const pendingUpgrades = new Set<UWS.HttpResponse>()
  const upgradeOutsideOwnCork = (res: UWS.HttpResponse, upgrade: () => void) => {
    pendingUpgrades.delete(res)
    let holder: { cork: (f: () => void) => unknown } | undefined
    for (const ws of openSockets) {
      holder = ws
      break
    }
    if (holder === undefined) {
      for (const other of pendingUpgrades) {
        holder = other
        break
      }
    }
    if (holder === undefined) upgrade()
    else holder.cork(() => res.cork(upgrade))
  }
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
          pendingUpgrades.delete(res)
        })
        pendingUpgrades.add(res)
        runFork(auth.upgrade({ headers, ticket })).addObserver((exit) =>
          guard("ws upgrade", () => {
            if (aborted) return
            const owner = Exit.isSuccess(exit) ? Option.getOrUndefined(exit.value) : undefined
            if (Exit.isFailure(exit) || owner === undefined) {
              pendingUpgrades.delete(res)
              res.cork(() => {
                if (Exit.isFailure(exit)) res.writeStatus("503 Service Unavailable").writeHeader("content-type", "application/json").end(UNAVAILABLE)
                else res.writeStatus("401 Unauthorized").writeHeader("content-type", "application/json").end(REFUSED)
              })
              return
            }
            const data: SocketData = { id: crypto.randomUUID(), userId: owner.userId, sessionKey: owner.sessionKey, remoteAddress, open: false }
            upgradeOutsideOwnCork(res, () => res.upgrade(data, key, protocol, extensions, context))
          })
        )
      }),
    open: (ws) =>
      guard("ws open", () => {
        const data = ws.getUserData()
        data.open = true
        openSockets.add(ws)
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
            data.sent = true
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
    close: (ws, code, message) =>
      guard("ws close", () => {
        openSockets.delete(ws)
        const data = ws.getUserData()
        if (data.open && !data.sent && code === 1006) {
          const why = Buffer.from(message).toString()
          runFork(Effect.logDebug(`uWS dropped socket ${data.id} before anything was sent to it (1006${why ? `: ${why}` : ""})`))
        }
        data.open = false
        const conn = data.conn
        if (conn) setImmediate(() => runFork(gateway.close(conn)))
      })
  }
}
