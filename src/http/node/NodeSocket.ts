/**
 * `/ws` on the standard transport: upgrades authenticated like on uWS, then served by `ws`
 * behind the transport-neutral `WsConnection`, with heartbeats and a frame-size limit.
 */
import { Effect, Exit, Option } from "effect"
import type * as Http from "node:http"
import type { Duplex } from "node:stream"
import { type WebSocket, WebSocketServer } from "ws"
import type { AppConfigShape } from "../../config/AppConfig.ts"
import type { SocketOwner } from "../../social/Sessions.ts"
import { type Auth, clientAddress } from "../Auth.ts"
import type { WsConnection } from "../ws/Connection.ts"
import type { Gateway } from "../ws/Gateway.ts"

const wsConnection = (ws: WebSocket, id: string, owner: SocketOwner, remoteAddress: string): WsConnection => ({
  id,
  userId: owner.userId,
  sessionKey: owner.sessionKey,
  remoteAddress,
  send: (text) => {
    if (ws.readyState !== ws.OPEN) return "closed"
    ws.send(text)
    return ws.bufferedAmount > 0 ? "buffered" : "sent"
  },
  bufferedAmount: () => ws.bufferedAmount,
  close: (code, reason) => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason)
  },
  isOpen: () => ws.readyState === ws.OPEN
})

const refusal = (status: string, code: string, message: string) => {
  const body = JSON.stringify({ error: { code, message } })
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n\r\n${body}`
}

export const makeSockets = (options: {
  readonly config: AppConfigShape
  readonly auth: Auth["Type"]
  readonly gateway: Gateway["Type"]
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => { addObserver: (f: (exit: Exit.Exit<A, E>) => void) => void }
}) => {
  const { auth, config, gateway, runFork } = options
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.limits.wsMaxFrameBytes })

  const serveSocket = (ws: WebSocket, owner: SocketOwner, remoteAddress: string) => {
    const conn = wsConnection(ws, crypto.randomUUID(), owner, remoteAddress)
    let alive = true
    ws.on("pong", () => {
      alive = true
    })
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate()
      alive = false
      ws.ping()
    }, (config.limits.wsIdleTimeoutSeconds * 1000) / 2)
    ws.on("message", (data, isBinary) => {
      runFork(gateway.message(conn, isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString()))
    })
    ws.on("close", () => {
      clearInterval(heartbeat)
      runFork(gateway.close(conn))
    })
    ws.on("error", () => ws.terminate())
    runFork(gateway.open(conn))
  }

  const upgrade = (req: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy())
    const url = req.url ?? "/"
    if (url.split("?", 1)[0] !== "/ws") {
      return void socket.end(refusal("404 Not Found", "NotFound", `no WebSocket endpoint at ${url.split("?", 1)[0]}`))
    }
    const ticket = new URLSearchParams(url.includes("?") ? url.slice(url.indexOf("?") + 1) : "").get("ticket") ?? undefined
    runFork(auth.upgrade({ headers: req.headers as Record<string, string>, ticket })).addObserver((exit) => {
      try {
        if (Exit.isFailure(exit)) {
          return void socket.end(
            refusal("503 Service Unavailable", "ServiceUnavailable", "sessions cannot be checked right now; try again shortly")
          )
        }
        const owner = Option.getOrUndefined(exit.value)
        if (owner === undefined) {
          return void socket.end(
            refusal("401 Unauthorized", "Unauthorized", "sign in, or pass a ticket from POST /api/v1/auth/ws-ticket")
          )
        }
        if (socket.destroyed) return
        wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, owner, clientAddress(req.headers as Record<string, string>, req.socket.remoteAddress ?? "", config.trustProxy)))
      } catch {
        socket.destroy()
      }
    })
  }

  /** Says goodbye (1001) to open sockets so shutdown is not held up by them. */
  const closeAll = () => {
    for (const ws of wss.clients) ws.close(1001, "server shutting down")
    wss.close()
  }

  return { upgrade, closeAll }
}
