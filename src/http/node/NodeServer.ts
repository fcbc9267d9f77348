/**
 * The standard transport: the same handlers registered with `HttpApiBuilder` and served by
 * `@effect/platform-node`'s server on node:http — what Aperture runs on under Deno and wherever
 * uWS cannot load. A middleware in front of the builder uses the shared route table so that
 * unknown paths, wrong methods, wrong content types, oversize and malformed bodies, and inputs
 * that do not decode get exactly the responses the uWS transport gives. `/ws` upgrades are taken
 * before the platform sees them and served by `ws` behind the same connection interface.
 */
import {
  HttpApiBuilder,
  type HttpApiGroup,
  HttpApp,
  HttpIncomingMessage,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Either, Exit, Layer, Option, Runtime, Stream } from "effect"
import * as Http from "node:http"
import type { Duplex } from "node:stream"
import { WebSocketServer, type WebSocket } from "ws"
import { AppConfig } from "../../config/AppConfig.ts"
import { Api } from "../../domain/Api.ts"
import {
  BadRequest,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType
} from "../../domain/ApiError.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Auth } from "../Auth.ts"
import { corsHeaders, preflight } from "../Cors.ts"
import { BodyError, RequestBody, type RequestBodyShape } from "../RequestBody.ts"
import { docAssets } from "../Docs.ts"
import { encodeApiError, fromCause } from "../ErrorResponse.ts"
import type { AnyHandler, ApiHandlers, GroupName, HandlerServices, ServerServices } from "../Handlers.ts"
import { RequestContext, requestIdFrom } from "../../observability/RequestContext.ts"
import { acceptsContentType, compileRoutes, type CompiledRoute, type EncodedBody, lookup } from "../Routes.ts"
import { CurrentTransport, HttpListening } from "../Transport.ts"
import type { SocketOwner } from "../../social/Sessions.ts"
import type { WsConnection } from "../ws/Connection.ts"
import { Gateway } from "../ws/Gateway.ts"
import { webAsset } from "../Static.ts"

const errorResponse = (error: unknown, extraHeaders: Record<string, string> = {}) => {
  const e = encodeApiError(error)!
  return HttpServerResponse.text(e.body, {
    status: e.status,
    contentType: "application/json",
    headers: { ...e.headers, ...extraHeaders }
  })
}

/** A handler's value as the platform's response (for endpoints registered raw). */
const toServerResponse = (encoded: EncodedBody | HttpServerResponse.HttpServerResponse) => {
  if (HttpServerResponse.isServerResponse(encoded)) return encoded
  const options = { status: encoded.status, ...(encoded.contentType ? { contentType: encoded.contentType } : {}) }
  if (encoded.body === undefined) return HttpServerResponse.empty({ status: encoded.status })
  return typeof encoded.body === "string"
    ? HttpServerResponse.text(encoded.body, options)
    : HttpServerResponse.uint8Array(encoded.body, options)
}

/**
 * Registers every handler of a group's table with `HttpApiBuilder`. The tables are checked against
 * the contract where they are written (`GroupHandlers`); here they are registered generically.
 * Streamed endpoints are registered raw: the builder must not read the body the handler streams.
 */
const groupLayer = <G extends GroupName>(name: G, table: Record<string, AnyHandler>, routes: ReadonlyArray<CompiledRoute>) =>
  HttpApiBuilder.group(Api, name, (handlers) => {
    let h: any = handlers
    for (const [endpoint, handler] of Object.entries(table)) {
      const route = routes.find((r) => r.group === name && r.name === endpoint)
      h = route?.streamed
        ? h.handleRaw(endpoint, (req: Record<string, unknown>) =>
          Effect.map(handler({ path: req.path, urlParams: req.urlParams }), (value) => toServerResponse(route.encodeSuccess(value))))
        : h.handle(endpoint, handler)
    }
    return h
  }) as unknown as Layer.Layer<HttpApiGroup.ApiGroup<"aperture", G>, never, ServerServices>

const middleware = (routes: ReadonlyArray<CompiledRoute>) => {
  return (app: HttpApp.Default) =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const metrics = yield* Metrics
      const request = yield* HttpServerRequest.HttpServerRequest
      const started = performance.now()
      const path = request.url.split("?", 1)[0]!
      const requestId = requestIdFrom(request.headers["x-request-id"])
      const found = lookup(routes, request.method, path)
      let routeLabel = "unmatched"
      const context = {
        requestId,
        method: request.method,
        path,
        headers: request.headers,
        remoteAddress: Option.getOrElse(request.remoteAddress, () => ""),
        responseHeaders: [] as Array<readonly [string, string]>
      }
      if (request.method === "OPTIONS") {
        const answer = preflight(request.headers.origin, config.corsOrigins)
        return HttpServerResponse.empty({ status: answer.status, headers: answer.headers })
      }

      const cors = corsHeaders(request.headers.origin, config.corsOrigins)
      let decorated = false
      // request id, CORS and handler-set headers (cookies, rate limits), on whichever response goes out
      const withHeaders = (response: HttpServerResponse.HttpServerResponse) => {
        if (decorated) return response
        decorated = true
        let r = HttpServerResponse.setHeaders(response, { ...cors, "x-request-id": requestId })
        // a response sets at most one cookie, so a plain header map is enough here
        for (const [k, v] of context.responseHeaders) r = HttpServerResponse.setHeader(r, k, v)
        return r
      }
      const respond = Effect.gen(function*() {
        const asset = request.method === "GET" ? docAssets[path] : undefined
        if (asset) {
          routeLabel = path
          return HttpServerResponse.text(asset.body(), {
            contentType: asset.contentType,
            headers: { "cache-control": asset.cacheControl }
          })
        }
        const web = request.method === "GET" && found._tag === "NotFound" ? webAsset(path, request.headers["accept-encoding"]) : undefined
        if (web) {
          routeLabel = "web"
          return HttpServerResponse.uint8Array(web.body, { status: web.status, contentType: web.headers["content-type"]!, headers: web.headers })
        }
        if (found._tag === "NotFound") {
          return errorResponse(new NotFound({ message: `no route for ${request.method} ${path}` }))
        }
        if (found._tag === "MethodNotAllowed") {
          return errorResponse(new MethodNotAllowed({ message: `${request.method} is not allowed on ${path}` }), {
            allow: found.allow.join(", ")
          })
        }
        const route = found.route
        routeLabel = route.path
        const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : ""
        if (route.streamed) {
          const decoded = route.decode({ params: found.params, query, headers: request.headers as Record<string, string>, json: undefined })
          if (Either.isLeft(decoded)) return errorResponse(decoded.left)
          const length = request.headers["content-length"]
          const body: RequestBodyShape = {
            contentType: request.headers["content-type"] ?? "",
            contentLength: length === undefined ? undefined : Number(length),
            headers: request.headers,
            stream: request.stream.pipe(Stream.mapError((e) => new BodyError({ reason: e.message })))
          }
          yield* HttpApp.appendPreResponseHandler((_req, response) => Effect.succeed(withHeaders(response)))
          return yield* app.pipe(Effect.provideService(RequestBody, body))
        }
        let json: unknown = undefined
        if (route.payloadTypes.length > 0) {
          if (!acceptsContentType(route, request.headers["content-type"])) {
            return errorResponse(new UnsupportedMediaType({ message: `send the body as ${route.payloadTypes.join(" or ")}` }))
          }
          const tooLarge = errorResponse(new PayloadTooLarge({ message: `body is larger than ${config.limits.jsonBodyBytes} bytes` }), {
            connection: "close"
          })
          if (Number(request.headers["content-length"] ?? "0") > config.limits.jsonBodyBytes) return tooLarge
          const text = yield* request.text.pipe(
            HttpIncomingMessage.withMaxBodySize(Option.some(config.limits.jsonBodyBytes)),
            Effect.option
          )
          if (Option.isNone(text)) return tooLarge
          try {
            json = text.value.length === 0 ? undefined : JSON.parse(text.value)
          } catch {
            return errorResponse(new BadRequest({ message: "body is not valid JSON" }))
          }
        }
        // decode with the shared decoders first, so a bad input reads the same on both transports
        const decoded = route.decode({ params: found.params, query, headers: request.headers as Record<string, string>, json })
        if (Either.isLeft(decoded)) return errorResponse(decoded.left)
        // the platform writes the app's response itself; a pre-response handler is how to add to it
        yield* HttpApp.appendPreResponseHandler((_req, response) => Effect.succeed(withHeaders(response)))
        return yield* app
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.map(fromCause(cause), (e) =>
            HttpServerResponse.text(e.body, { status: e.status, contentType: "application/json", headers: e.headers }))
        ),
        Effect.provideService(RequestContext, context),
        Effect.annotateLogs("requestId", requestId)
      )
      const response = yield* respond
      metrics.observeRequest(routeLabel, request.method, response.status, (performance.now() - started) / 1000)
      return withHeaders(response)
    })
}

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

const refuseUpgrade = (socket: Duplex) => {
  const body = JSON.stringify({
    error: { code: "Unauthorized", message: "sign in, or pass a ticket from POST /api/v1/auth/ws-ticket" }
  })
  socket.end(
    `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`
  )
}

/**
 * A node:http server whose `/ws` upgrades go to our WebSocket server (after authenticating them)
 * and whose `close` first says goodbye (1001) to open sockets, so the platform's graceful close is
 * not held up by them.
 */
const makeNodeServer = Effect.gen(function*() {
  const config = yield* AppConfig
  const gateway = yield* Gateway
  const auth = yield* Auth
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
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

  const server = Http.createServer()
  server.keepAliveTimeout = 5_000
  const emit = server.emit.bind(server) as (event: string, ...args: Array<unknown>) => boolean
  server.emit = ((event: string, ...args: Array<unknown>) => {
    if (event === "upgrade") {
      const [req, socket, head] = args as [Http.IncomingMessage, Duplex, Buffer]
      if ((req.url ?? "").split("?", 1)[0] === "/ws") {
        const ticket = new URL(req.url ?? "/", "http://localhost").searchParams.get("ticket") ?? undefined
        runFork(auth.upgrade({ headers: req.headers as Record<string, string>, ticket })).addObserver((exit) => {
          const owner = Exit.isSuccess(exit) ? Option.getOrUndefined(exit.value) : undefined
          if (owner === undefined) return refuseUpgrade(socket)
          wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, owner, req.socket.remoteAddress ?? ""))
        })
        return true
      }
    }
    return emit(event, ...args)
  }) as typeof server.emit
  const close = server.close.bind(server)
  server.close = ((cb?: (err?: Error) => void) => {
    for (const ws of wss.clients) ws.close(1001, "server shutting down")
    wss.close()
    return close(cb)
  }) as typeof server.close
  return server
})

export const layer = (handlers: ApiHandlers<HandlerServices>) => {
  const routes = compileRoutes(handlers)
  const [first, ...rest] = (Object.entries(handlers) as Array<[GroupName, Record<string, AnyHandler>]>).map(([name, table]) =>
    groupLayer(name, table, routes)
  )
  const groups = Layer.mergeAll(first!, ...rest)
  const api = HttpApiBuilder.api(Api).pipe(Layer.provide(groups))
  const serverLayer = Layer.unwrapEffect(
    Effect.gen(function*() {
      const config = yield* AppConfig
      const server = yield* makeNodeServer
      return NodeHttpServer.layer(() => server, { port: config.port, host: config.host })
    })
  )
  const listening = Layer.effect(
    HttpListening,
    Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const port = server.address._tag === "TcpAddress" ? server.address.port : 0
      yield* Effect.logInfo(`listening on http://${server.address._tag === "TcpAddress" ? server.address.hostname : ""}:${port} (node)`)
      return { port }
    })
  )
  return Layer.mergeAll(HttpApiBuilder.serve(middleware(routes)).pipe(Layer.provide(api)), listening).pipe(
    Layer.provide(serverLayer),
    Layer.provide(Layer.succeed(CurrentTransport, "node"))
  )
}
