/**
 * The contract served natively by uWebSockets.js: uWS's own router dispatches each endpoint of the
 * compiled route table to its handler, one fiber per request. Everything the request carries is
 * copied synchronously, `onAborted` is registered before any async work, responses are written
 * inside `cork`, bodies are read with a hard limit, and large or streamed responses respect
 * backpressure through `onWritable`. Shutdown stops listening, lets in-flight requests finish
 * (up to the grace period), then closes what is left.
 */
import { HttpServerResponse } from "@effect/platform"
import { Cause, Chunk, Deferred, Duration, Effect, Either, Exit, Fiber, FiberId, Layer, Option, Runtime, Stream } from "effect"
import type * as UWS from "uWebSockets.js"
import { AppConfig } from "../../config/AppConfig.ts"
import { BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, UnsupportedMediaType } from "../../domain/ApiError.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Auth } from "../Auth.ts"
import { corsHeaders, preflight } from "../Cors.ts"
import { BodyError, RequestBody, type RequestBodyShape } from "../RequestBody.ts"
import { docAssets } from "../Docs.ts"
import { encodeApiError, type ErrorResponse, fromCause } from "../ErrorResponse.ts"
import type { ApiHandlers, HandlerServices, ServerServices } from "../Handlers.ts"
import { RequestContext, requestIdFrom } from "../../observability/RequestContext.ts"
import { acceptsContentType, compileRoutes, type CompiledRoute, type EncodedBody, lookup } from "../Routes.ts"
import { CloseCode } from "../../domain/Ws.ts"
import { CurrentTransport, HttpListening } from "../Transport.ts"
import type { WsConnection } from "../ws/Connection.ts"
import { Gateway } from "../ws/Gateway.ts"
import { webAsset } from "../Static.ts"

export type Uws = typeof UWS

interface Outgoing {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | Uint8Array | Stream.Stream<Uint8Array, unknown> | undefined
}

const STATUS_TEXT: Record<number, string> = {
  200: "200 OK", 201: "201 Created", 202: "202 Accepted", 204: "204 No Content", 206: "206 Partial Content",
  301: "301 Moved Permanently", 302: "302 Found", 304: "304 Not Modified", 400: "400 Bad Request",
  401: "401 Unauthorized", 403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed",
  409: "409 Conflict", 413: "413 Payload Too Large", 415: "415 Unsupported Media Type",
  416: "416 Range Not Satisfiable", 422: "422 Unprocessable Entity", 429: "429 Too Many Requests",
  500: "500 Internal Server Error", 503: "503 Service Unavailable"
}
const statusLine = (status: number) => STATUS_TEXT[status] ?? String(status)

const fromEncoded = (e: EncodedBody): Outgoing => ({
  status: e.status,
  headers: e.contentType === undefined ? {} : { "content-type": e.contentType },
  body: e.body
})

const fromServerResponse = (r: HttpServerResponse.HttpServerResponse): Outgoing => {
  const headers: Record<string, string> = { ...r.headers }
  const body = r.body
  // the platform states the length of a sized body; uWS writes its own Content-Length on `end`
  if (body._tag === "Uint8Array" || body._tag === "Raw") delete headers["content-length"]
  switch (body._tag) {
    case "Uint8Array":
      headers["content-type"] ??= body.contentType
      return { status: r.status, headers, body: body.body }
    case "Raw":
      return { status: r.status, headers, body: typeof body.body === "string" ? body.body : String(body.body) }
    case "Stream":
      headers["content-type"] ??= body.contentType
      if (body.contentLength !== undefined) headers["content-length"] = String(body.contentLength)
      return { status: r.status, headers, body: body.stream }
    default:
      return { status: r.status, headers, body: undefined }
  }
}

const jsonError = (e: ErrorResponse): Outgoing => ({
  status: e.status,
  headers: { "content-type": "application/json", ...e.headers },
  body: e.body
})

const errorOutgoing = (error: unknown): Outgoing => jsonError(encodeApiError(error)!)

export const make = (uws: Uws, handlers: ApiHandlers<HandlerServices>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const metrics = yield* Metrics
    const gateway = yield* Gateway
    const auth = yield* Auth
    const runtime = yield* Effect.runtime<ServerServices>()
    const runFork = Runtime.runFork(runtime)
    const routes = compileRoutes(handlers)
    const app = uws.App()
    const sampleRate = config.traceSampleRate
    const maxBody = config.limits.jsonBodyBytes
    let inFlight = 0
    const idle = yield* Deferred.make<void>()
    let closing = false

    /** Writes a response: small bodies in one corked call, large ones chunked on `onWritable`. */
    const write = (
      res: UWS.HttpResponse,
      state: { aborted: boolean },
      requestId: string,
      out: Outgoing,
      done: () => void,
      extra: ReadonlyArray<readonly [string, string]> = []
    ) => {
      if (state.aborted) return done()
      const writeHead = (o: Outgoing) => () => {
        res.writeStatus(statusLine(o.status))
        res.writeHeader("x-request-id", requestId)
        // a header the handler set replaces the transport's; only set-cookie may repeat
        for (const k in o.headers) if (!extra.some(([e]) => e === k)) res.writeHeader(k, o.headers[k]!)
        for (const [k, v] of extra) res.writeHeader(k, v)
        if (closing) res.writeHeader("connection", "close")
      }
      const head = writeHead(out)
      const body = out.body
      if (body === undefined || typeof body === "string" || (body instanceof Uint8Array && body.byteLength <= 64 * 1024)) {
        res.cork(() => {
          head()
          // 204 and 304 have no body by definition; any other empty answer says Content-Length: 0
          if (body === undefined) out.status === 204 || out.status === 304 ? res.endWithoutBody() : res.end()
          else res.end(body as string | Uint8Array)
        })
        return done()
      }
      if (body instanceof Uint8Array) return writeLarge(res, state, body, head, done)
      const length = out.headers["content-length"]
      if (length === undefined) return writeStream(res, state, body, head, done, undefined)
      const { "content-length": _, ...rest } = out.headers
      return writeStream(res, state, body, writeHead({ ...out, headers: rest }), done, Number(length))
    }

    const writeLarge = (res: UWS.HttpResponse, state: { aborted: boolean }, body: Uint8Array, head: () => void, done: () => void) => {
      const total = body.byteLength
      let ok = false
      let finished = false
      let start = 0
      res.cork(() => {
        head()
        // offsets passed to onWritable count from here: the body's first byte
        start = res.getWriteOffset()
        ;[ok, finished] = res.tryEnd(body, total)
      })
      if (finished) return done()
      if (!ok) {
        res.onWritable((offset) => {
          if (state.aborted) return true
          const [ok2, finished2] = res.tryEnd(body.subarray(offset - start), total)
          if (finished2) done()
          return ok2
        })
      }
    }

    /**
     * Streams a body with backpressure. With a known length every chunk goes through `tryEnd`
     * (uWS then sends Content-Length itself and ends with the last byte); otherwise chunked `write`.
     */
    const writeStream = (
      res: UWS.HttpResponse,
      state: { aborted: boolean },
      body: Stream.Stream<Uint8Array, unknown>,
      head: () => void,
      done: () => void,
      total: number | undefined
    ) => {
      res.cork(head)
      let finished = false
      const drained = () =>
        Effect.async<void>((resume) => {
          res.onWritable(() => {
            resume(Effect.void)
            return true
          })
        })
      const sendSized = (chunk: Uint8Array, size: number) =>
        Effect.async<void>((resume) => {
          let start = 0
          let ok = false
          res.cork(() => {
            start = res.getWriteOffset()
            ;[ok, finished] = res.tryEnd(chunk, size)
          })
          if (ok || finished) return resume(Effect.void)
          res.onWritable((offset) => {
            if (state.aborted) return true
            const [ok2, done2] = res.tryEnd(chunk.subarray(offset - start), size)
            finished = done2
            if (ok2 || done2) resume(Effect.void)
            return ok2
          })
        })
      const pump = Stream.runForEach(body, (chunk) =>
        Effect.suspend(() => {
          if (state.aborted) return Effect.interrupt
          if (total !== undefined) return sendSized(chunk, total)
          let ok = true
          res.cork(() => {
            ok = res.write(chunk)
          })
          return ok ? Effect.void : drained()
        })).pipe(
          Effect.matchCauseEffect({
            onSuccess: () =>
              Effect.sync(() => {
                if (state.aborted || finished) return
                // a sized body that came up short cannot be completed honestly: cut the connection
                if (total !== undefined) res.close()
                else res.cork(() => res.end())
              }),
            onFailure: (cause) =>
              Effect.sync(() => {
                if (!state.aborted && !finished) res.close()
              }).pipe(Effect.zipRight(Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("response stream failed", cause)))
          }),
          Effect.ensuring(Effect.sync(done))
        )
      runFork(pump)
    }

    const finishOne = () => {
      inFlight--
      if (closing && inFlight === 0) Deferred.unsafeDone(idle, Exit.void)
    }

    const dispatch = (route: CompiledRoute) => (res: UWS.HttpResponse, req: UWS.HttpRequest) => {
      const started = performance.now()
      const headers: Record<string, string> = {}
      req.forEach((k, v) => {
        headers[k] = v
      })
      const params: Record<string, string> = {}
      for (let i = 0; i < route.paramNames.length; i++) {
        params[route.paramNames[i]!] = decodeURIComponent(req.getParameter(i) ?? "")
      }
      const query = req.getQuery() ?? ""
      const path = req.getUrl()
      const method = route.method
      const requestId = requestIdFrom(headers["x-request-id"])
      const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString()
      const state = {
        aborted: false,
        responded: false,
        /** Streamed routes: whether the whole request body has arrived. */
        bodyEnded: true,
        fiber: undefined as Fiber.RuntimeFiber<unknown, unknown> | undefined
      }
      inFlight++
      res.onAborted(() => {
        state.aborted = true
        state.fiber?.unsafeInterruptAsFork(FiberId.none)
      })
      const context = { requestId, method, path, headers, remoteAddress, responseHeaders: [] as Array<readonly [string, string]> }
      const cors = corsHeaders(headers.origin, config.corsOrigins)
      const finish = (out: Outgoing) => {
        for (const k in cors) context.responseHeaders.push([k, cors[k]!])
        // answered before the body was read to its end: the rest is not worth reading, so the
        // connection closes; a fully read body keeps the connection for the client's next request
        if (!state.bodyEnded) context.responseHeaders.push(["connection", "close"])
        state.responded = true
        write(res, state, requestId, out, () => {
          metrics.observeRequest(route.path, method, out.status, (performance.now() - started) / 1000)
          finishOne()
        }, context.responseHeaders)
      }

      const failed = (cause: Cause.Cause<unknown>) => {
        if (state.aborted) return finish({ status: 499, headers: {}, body: undefined })
        const failure = Cause.failureOption(cause)
        const known = failure._tag === "Some" ? encodeApiError(failure.value) : undefined
        if (known) return finish(jsonError(known))
        // a defect: logged (with the request id) before answering 500
        runFork(fromCause(cause).pipe(Effect.provideService(RequestContext, context))).addObserver((exit) =>
          finish(Exit.isSuccess(exit) ? jsonError(exit.value) : errorOutgoing(new BadRequest({ message: "request failed" })))
        )
      }
      const completed = (exit: Exit.Exit<unknown, unknown>) => {
        if (Exit.isFailure(exit)) return failed(exit.cause)
        let encoded: ReturnType<CompiledRoute["encodeSuccess"]>
        try {
          encoded = route.encodeSuccess(exit.value)
        } catch (defect) {
          return failed(Cause.die(defect))
        }
        finish(HttpServerResponse.isServerResponse(encoded) ? fromServerResponse(encoded) : fromEncoded(encoded))
      }

      const run = (json: unknown, body?: RequestBodyShape) => {
        const input = route.decode({ params, query, headers, json })
        if (Either.isLeft(input)) return finish(errorOutgoing(input.left))
        let effect: Effect.Effect<unknown, unknown, HandlerServices>
        try {
          effect = route.handler(input.right)
        } catch (defect) {
          return failed(Cause.die(defect))
        }
        // a handler that answered without doing anything effectful needs no fiber at all
        if (Exit.isExit(effect)) return completed(effect)
        let program = Effect.provideService(effect, RequestContext, context)
        if (body !== undefined) program = Effect.provideService(program, RequestBody, body)
        if (sampleRate > 0 && Math.random() < sampleRate) {
          program = Effect.withSpan(program, `${method} ${route.path}`, { attributes: { requestId } })
        }
        // RequestBody is provided above exactly for the streamed routes, the only ones that use it
        const fiber = runFork(program as Effect.Effect<unknown, unknown, ServerServices>)
        state.fiber = fiber
        fiber.addObserver(completed)
      }

      if (route.payloadTypes.length === 0) return run(undefined)
      if (route.streamed) {
        // the handler reads the body; it must be wired up before this callback returns
        const declaredLength = headers["content-length"] === undefined ? undefined : Number(headers["content-length"])
        state.bodyEnded = false
        return run(undefined, {
          contentType: headers["content-type"] ?? "",
          contentLength: Number.isFinite(declaredLength) ? declaredLength : undefined,
          headers,
          stream: bodyStream(res, state)
        })
      }
      if (!acceptsContentType(route, headers["content-type"])) {
        return finish(errorOutgoing(new UnsupportedMediaType({ message: `send the body as ${route.payloadTypes.join(" or ")}` })))
      }
      const declared = Number(headers["content-length"] ?? "0")
      const tooLarge = () =>
        finish({
          ...errorOutgoing(new PayloadTooLarge({ message: `body is larger than ${maxBody} bytes` })),
          headers: { "content-type": "application/json", connection: "close" }
        })
      if (declared > maxBody) return tooLarge()
      readBody(res, maxBody, (body) => {
        if (body === undefined) return tooLarge()
        let json: unknown
        try {
          json = body.byteLength === 0 ? undefined : JSON.parse(body.toString("utf8"))
        } catch {
          return finish(errorOutgoing(new BadRequest({ message: "body is not valid JSON" })))
        }
        run(json)
      })
    }

    for (const route of routes) {
      const pattern = route.path
      const h = dispatch(route)
      switch (route.method) {
        case "GET":
          app.get(pattern, h)
          break
        case "POST":
          app.post(pattern, h)
          break
        case "PUT":
          app.put(pattern, h)
          break
        case "PATCH":
          app.patch(pattern, h)
          break
        case "DELETE":
          app.del(pattern, h)
          break
      }
    }

    for (const [pattern, asset] of Object.entries(docAssets)) {
      let bytes: Uint8Array | undefined
      app.get(pattern, (res, req) => {
        const requestId = requestIdFrom(req.getHeader("x-request-id") || undefined)
        const state = { aborted: false }
        res.onAborted(() => {
          state.aborted = true
        })
        inFlight++
        bytes ??= Buffer.from(asset.body())
        // the docs script is megabytes: `write` streams it on `onWritable` rather than buffering it all
        write(res, state, requestId, {
          status: 200,
          headers: { "content-type": asset.contentType, "cache-control": asset.cacheControl },
          body: bytes
        }, finishOne)
      })
    }

    interface SocketData {
      readonly id: string
      readonly userId: string
      readonly sessionKey: string
      readonly remoteAddress: string
      open: boolean
      conn?: WsConnection
    }
    app.ws<SocketData>("/ws", {
      // frames over the limit are closed with 1009 in `message`; uWS cuts off far larger ones itself
      maxPayloadLength: config.limits.wsMaxFrameBytes * 4,
      idleTimeout: config.limits.wsIdleTimeoutSeconds,
      // the gateway closes with 1013 at the configured limit; this is uWS's hard stop above it
      maxBackpressure: config.limits.wsMaxBufferedBytes * 2,
      closeOnBackpressureLimit: 1,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        const key = req.getHeader("sec-websocket-key")
        const protocol = req.getHeader("sec-websocket-protocol")
        const extensions = req.getHeader("sec-websocket-extensions")
        const headers: Record<string, string> = {}
        req.forEach((k, v) => {
          headers[k] = v
        })
        const ticket = new URLSearchParams(req.getQuery() ?? "").get("ticket") ?? undefined
        const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString()
        let aborted = false
        res.onAborted(() => {
          aborted = true
        })
        runFork(auth.upgrade({ headers, ticket })).addObserver((exit) => {
          if (aborted) return
          const owner = Exit.isSuccess(exit) ? Option.getOrUndefined(exit.value) : undefined
          res.cork(() => {
            if (owner === undefined) {
              res.writeStatus("401 Unauthorized").writeHeader("content-type", "application/json")
                .end(JSON.stringify({ error: { code: "Unauthorized", message: "sign in, or pass a ticket from POST /api/v1/auth/ws-ticket" } }))
              return
            }
            const data: SocketData = { id: crypto.randomUUID(), userId: owner.userId, sessionKey: owner.sessionKey, remoteAddress, open: false }
            res.upgrade(data, key, protocol, extensions, context)
          })
        })
      },
      open: (ws) => {
        const data = ws.getUserData()
        data.open = true
        data.conn = {
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
        const conn = data.conn
        // the gateway subscribes to NATS and reads the database: starting that from inside a uWS
        // callback (re-entering the event loop's I/O there) killed sockets; run it on the next turn
        setImmediate(() => runFork(gateway.open(conn)))
      },
      message: (ws, message) => {
        const conn = ws.getUserData().conn
        if (conn === undefined) return
        if (message.byteLength > config.limits.wsMaxFrameBytes) return conn.close(CloseCode.tooBig, "frame too large")
        const text = Buffer.from(message).toString("utf8")
        setImmediate(() => runFork(gateway.message(conn, text)))
      },
      close: (ws) => {
        const data = ws.getUserData()
        data.open = false
        const conn = data.conn
        if (conn) setImmediate(() => runFork(gateway.close(conn)))
      }
    })

    app.options("/*", (res, req) => {
      const answer = preflight(req.getHeader("origin") || undefined, config.corsOrigins)
      res.cork(() => {
        res.writeStatus(statusLine(answer.status))
        for (const k in answer.headers) res.writeHeader(k, answer.headers[k]!)
        res.end()
      })
    })

    // the web client (`/`, app routes, `/widgets/*`); any other GET falls through to the API's 404/405
    app.get("/*", (res, req) => {
      const asset = webAsset(req.getUrl(), req.getHeader("accept-encoding"))
      if (asset === undefined) return void req.setYield(true)
      const requestId = requestIdFrom(req.getHeader("x-request-id") || undefined)
      const state = { aborted: false }
      res.onAborted(() => {
        state.aborted = true
      })
      inFlight++
      write(res, state, requestId, asset, finishOne)
    })

    app.any("/*", (res, req) => {
      const method = req.getMethod().toUpperCase()
      const path = req.getUrl()
      res.onAborted(() => undefined)
      const found = lookup(routes, method, path)
      const out = found._tag === "MethodNotAllowed"
        ? {
          ...errorOutgoing(new MethodNotAllowed({ message: `${method} is not allowed on ${path}` })),
          headers: { "content-type": "application/json", allow: found.allow.join(", ") }
        }
        : errorOutgoing(new NotFound({ message: `no route for ${method} ${path}` }))
      res.cork(() => {
        res.writeStatus(statusLine(out.status))
        for (const k in out.headers) res.writeHeader(k, out.headers[k]!)
        res.end(out.body as string)
      })
    })

    const listenSocket = yield* Effect.async<UWS.us_listen_socket, Error>((resume) => {
      app.listen(config.host, config.port, (token) => {
        resume(token ? Effect.succeed(token) : Effect.fail(new Error(`uWS could not listen on ${config.host}:${config.port}`)))
      })
    })
    const port = uws.us_socket_local_port(listenSocket as never)
    yield* Effect.logInfo(`listening on http://${config.host}:${port} (uws)`)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        closing = true
        uws.us_listen_socket_close(listenSocket)
        if (inFlight > 0) {
          yield* Deferred.await(idle).pipe(Effect.timeout(Duration.millis(config.shutdownGraceMillis)), Effect.ignore)
        }
        app.close()
        yield* Effect.logInfo("http server closed (uws)")
      })
    )
    return { port }
  })

/**
 * A request body as a Stream with backpressure: uWS pushes chunks as they arrive, so the socket is
 * paused while more than a few chunks wait for the handler and resumed once it catches up.
 */
const bodyStream = (
  res: UWS.HttpResponse,
  state: { readonly aborted: boolean; readonly responded: boolean; bodyEnded: boolean }
): Stream.Stream<Uint8Array, BodyError> => {
  const queue: Array<Uint8Array> = []
  let ended = false
  let paused = false
  let wake: (() => void) | undefined
  res.onData((chunk, isLast) => {
    queue.push(new Uint8Array(chunk.slice(0)))
    if (isLast) {
      ended = true
      state.bodyEnded = true
    }
    if (!ended && !paused && queue.length >= 8 && !state.aborted && !state.responded) {
      paused = true
      res.pause()
    }
    const w = wake
    wake = undefined
    w?.()
  })
  const pull = Effect.async<Chunk.Chunk<Uint8Array>, Option.Option<BodyError>>((resume) => {
    const attempt = () => {
      if (queue.length > 0) {
        const chunks = queue.splice(0, queue.length)
        // once answered (or aborted) the response object is gone: it must not be touched again
        if (paused && !state.aborted && !state.responded) {
          paused = false
          res.resume()
        }
        return resume(Effect.succeed(Chunk.fromIterable(chunks)))
      }
      if (ended) return resume(Effect.fail(Option.none()))
      if (state.aborted) return resume(Effect.fail(Option.some(new BodyError({ reason: "the client went away" }))))
      wake = attempt
    }
    attempt()
  })
  return Stream.repeatEffectChunkOption(pull)
}

/** Reads a request body up to `limit` bytes; calls back with undefined when it is larger. */
const readBody = (res: UWS.HttpResponse, limit: number, cb: (body: Buffer | undefined) => void) => {
  const chunks: Array<Buffer> = []
  let size = 0
  let over = false
  res.onData((chunk, isLast) => {
    if (over) return
    size += chunk.byteLength
    if (size > limit) {
      over = true
      return cb(undefined)
    }
    chunks.push(Buffer.from(chunk.slice(0)))
    if (isLast) cb(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
  })
}

export const layer = (uws: Uws, handlers: ApiHandlers<HandlerServices>) =>
  Layer.scoped(HttpListening, make(uws, handlers)).pipe(Layer.provide(Layer.succeed(CurrentTransport, "uws")))
