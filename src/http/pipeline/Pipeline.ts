/**
 * The one request pipeline, the same for both transports: request-head limits, CORS preflight,
 * the documentation and web-client files, route lookup (404/405), body policy (content type,
 * size, JSON depth), decoding of path, query, headers and body, the session check for endpoints
 * the contract declares `Authenticated`, the handler, encoding, and the error mapping. A transport
 * only turns its native request into a `RequestHead` and an `Exchange` (reading the body, writing
 * a response) — see uws/ and node/.
 *
 * It runs synchronously up to the handler: a request that is answered from the head alone (a 404,
 * a 414, a malformed escape) costs no fiber, and a handler that returns an `Exit` needs none.
 * Everything that runs here is guarded: a defect becomes a logged 500 with the request id, never
 * an exception in a native callback.
 */
import { HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Either, Exit, Fiber, FiberId, Runtime, type Stream } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import {
  BadRequest,
  HeadersTooLarge,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType,
  UriTooLong
} from "../../domain/ApiError.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { RequestContext, type RequestContextShape, requestIdFrom } from "../../observability/RequestContext.ts"
import { Tracing } from "../../observability/Tracing.ts"
import { Auth } from "../Auth.ts"
import { carriesEmbedToken, corsHeaders, preflight } from "../Cors.ts"
import { docAssets } from "../Docs.ts"
import { siteAssets } from "../Site.ts"
import { encodeApiError, fromCause } from "../ErrorResponse.ts"
import { Idempotency } from "../Idempotency.ts"
import type { ApiHandlers, HandlerServices, ServerServices } from "../Handlers.ts"
import type { BodyError, RequestBodyShape } from "../RequestBody.ts"
import { RequestBody } from "../RequestBody.ts"
import { acceptsContentType, compileRoutes, type CompiledRoute, lookup } from "../Routes.ts"
import { webAsset } from "../Static.ts"
import { readJson } from "./Input.ts"
import { errorOutgoing, fromEncoded, fromErrorResponse, fromServerResponse, type Outgoing } from "./Outgoing.ts"

/** What a transport knows of a request before its body. */
export interface RequestHead {
  /** Upper-case. */
  readonly method: string
  /** The path as sent, still percent-encoded. */
  readonly path: string
  /** The query string without `?`. */
  readonly query: string
  /** Lower-case names; a repeated header keeps its first value (Content-Length is checked separately). */
  readonly headers: Record<string, string>
  readonly remoteAddress: string
  /** Bytes of the header names and values. */
  readonly headerBytes: number
  /** Content-Length was sent more than once with different values, or is not a decimal number. */
  readonly badLength: boolean
}

/** One request's body and response, as the transport offers them. */
export interface Exchange {
  readonly aborted: () => boolean
  /** Called when the client goes away before the response is written. */
  readonly onAbort: (f: () => void) => void
  /** Reads the whole body; `tooLarge` once more than `limit` bytes arrived. Called at most once. */
  readonly readBody: (limit: number, cb: (body: Uint8Array | "tooLarge") => void) => void
  /** The body as a stream with backpressure, for streamed routes. Called at most once. */
  readonly bodyStream: () => Stream.Stream<Uint8Array, BodyError>
  /** Whether the body has been read to its end. */
  readonly bodyEnded: () => boolean
  /**
   * Whether the transport can read and drop what is left of an unread body and keep the
   * connection. Closing on unread bytes resets the connection, and a reset can destroy the answer
   * before the client has read it; so a body of sane size is drained, a larger one cut off.
   */
  readonly canDrain: () => boolean
  /**
   * Writes the response (for HEAD, without its body). `extra` are headers that replace those of
   * `out` with the same name; `close` closes the connection afterwards. `done` runs once written.
   */
  readonly send: (
    out: Outgoing,
    extra: ReadonlyArray<readonly [string, string]>,
    close: boolean,
    done: () => void
  ) => void
}

export interface Pipeline {
  readonly routes: ReadonlyArray<CompiledRoute>
  /**
   * Serves one request. `match` is the route and raw path parameters when the transport's own
   * router found it (uWS); otherwise the pipeline looks the path up.
   */
  readonly serve: (
    head: RequestHead,
    exchange: Exchange,
    match?: { readonly route: CompiledRoute; readonly params: ReadonlyArray<string> }
  ) => void
}

export const make = (handlers: ApiHandlers<HandlerServices>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const metrics = yield* Metrics
    const auth = yield* Auth
    const idempotency = yield* Idempotency
    const runtime = yield* Effect.runtime<ServerServices>()
    const runFork = Runtime.runFork(runtime)
    // without BENCH_FIXTURES the fixtures are not routes at all: 404 on both transports
    const routes = compileRoutes(handlers).filter((r) => config.ops.benchFixtures || !r.benchFixture)
    const limits = config.limits
    const sampleRate = config.traceSampleRate
    const tracing = yield* Tracing
    const corsOrigins = config.corsOrigins
    /** The documentation files, encoded once (the docs script is megabytes). */
    const docBytes = new Map<string, Uint8Array>()

    const serve: Pipeline["serve"] = (head, exchange, match) => {
      const started = performance.now()
      const method = head.method
      const requestId = requestIdFrom(head.headers["x-request-id"])
      const context: RequestContextShape = {
        requestId,
        method,
        path: head.path,
        headers: head.headers,
        remoteAddress: head.remoteAddress,
        responseHeaders: []
      }
      let label = match?.route.path ?? "unmatched"
      let responded = false
      let fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined

      const respond = (out: Outgoing) => {
        if (responded) return
        responded = true
        const extra: Array<readonly [string, string]> = [["x-request-id", requestId]]
        const cors = corsHeaders(head.headers.origin, corsOrigins, {
          method,
          credentialed: head.headers.cookie !== undefined || head.headers.authorization !== undefined,
          embedToken: carriesEmbedToken(head.headers)
        })
        // a response that varies already (a web asset by Accept-Encoding) keeps that and adds Origin
        const varies = out.headers["vary"]
        for (const k in cors) extra.push([k, k === "vary" && varies !== undefined ? `${varies}, ${cors[k]!}` : cors[k]!])
        for (const h of context.responseHeaders) extra.push(h)
        // answered before the body was read to its end: drained when that is cheap, else the connection closes
        const close = out.close === true || (!exchange.bodyEnded() && !exchange.canDrain())
        const status = exchange.aborted() ? 499 : out.status
        try {
          exchange.send(out, extra, close, () => metrics.observeRequest(label, method, status, (performance.now() - started) / 1000))
        } catch (defect) {
          mapCause(Cause.die(defect))
        }
      }

      /** The one error mapping, which also logs what is not a known API error (with the request id). */
      const mapCause = (cause: Cause.Cause<unknown>) =>
        runFork(fromCause(cause).pipe(Effect.provideService(RequestContext, context), Effect.annotateLogs("requestId", requestId)))

      /** A failure of the request: a known API error as itself, anything else through the one mapping. */
      const failed = (cause: Cause.Cause<unknown>) => {
        if (exchange.aborted()) return respond({ status: 499, headers: {}, body: undefined })
        const failure = Cause.failureOption(cause)
        const known = failure._tag === "Some" ? encodeApiError(failure.value) : undefined
        if (known) return respond(fromErrorResponse(known))
        mapCause(cause).addObserver((exit) =>
          respond(
            Exit.isSuccess(exit)
              ? fromErrorResponse(exit.value)
              : { status: 500, headers: { "content-type": "application/json" }, body: INTERNAL }
          )
        )
      }

      const completed = (route: CompiledRoute) => (exit: Exit.Exit<unknown, unknown>) => {
        if (Exit.isFailure(exit)) return failed(exit.cause)
        let out: Outgoing
        try {
          const encoded = route.encodeSuccess(exit.value)
          out = HttpServerResponse.isServerResponse(encoded) ? fromServerResponse(encoded) : fromEncoded(encoded)
        } catch (defect) {
          return failed(Cause.die(defect))
        }
        respond(out)
      }

      /** A create with `Idempotency-Key`: at most once per user and key (the header has been decoded). */
      const once = (route: CompiledRoute, input: unknown, key: string, bytes?: Uint8Array, body?: RequestBodyShape) =>
        Effect.flatMap(auth.required, (viewer) =>
          idempotency.run(
            {
              userId: viewer.userId,
              key,
              method,
              target: head.query === "" ? head.path : `${head.path}?${head.query}`,
              bytes,
              body
            },
            (hashed): Effect.Effect<unknown, unknown, HandlerServices> =>
              hashed === undefined ? route.handler(input) : Effect.provideService(route.handler(input), RequestBody, hashed),
            route.encodeSuccess
          ))

      const run = (route: CompiledRoute, params: ReadonlyArray<string>, json: unknown, body?: RequestBodyShape, bytes?: Uint8Array) => {
        const input = route.decode({ params, query: head.query, headers: head.headers, json })
        if (Either.isLeft(input)) return respond(errorOutgoing(input.left))
        const key = route.idempotent && route.requiresSession ? head.headers["idempotency-key"] : undefined
        let effect: Effect.Effect<unknown, unknown, HandlerServices> = key === undefined
          ? route.handler(input.right)
          : once(route, input.right, key, bytes, body)
        // a handler that answered without doing anything effectful needs no fiber at all
        if (!route.requiresSession && Exit.isExit(effect)) return completed(route)(effect)
        if (route.requiresSession) effect = Effect.zipRight(auth.required, effect)
        let program = Effect.provideService(effect, RequestContext, context)
        if (body !== undefined) program = Effect.provideService(program, RequestBody, body)
        if (tracing.enabled) {
          // every request gets a server span (the sampler decides what is kept), continuing a caller's `traceparent`
          program = tracing.continueFrom(program, `http ${method} ${route.path}`, tracing.fromHeaders((name) => head.headers[name]), {
            kind: "server",
            attributes: { "http.request.method": method, "http.route": route.path, "url.path": head.path, "aperture.request_id": requestId }
          })
        } else if (sampleRate > 0 && Math.random() < sampleRate) {
          program = Effect.withSpan(program, `http ${method} ${route.path}`, { attributes: { requestId } })
        }
        // RequestBody is provided above exactly for the streamed routes, the only ones that use it
        fiber = runFork(program as Effect.Effect<unknown, unknown, ServerServices>)
        fiber.addObserver(completed(route))
      }

      const dispatch = (route: CompiledRoute, params: ReadonlyArray<string>) => {
        label = route.path
        if (route.payloadTypes.length === 0) return run(route, params, undefined)
        const contentType = head.headers["content-type"]
        if (route.streamed) {
          const declared = head.headers["content-length"]
          return run(route, params, undefined, {
            contentType: contentType ?? "",
            contentLength: declared === undefined ? undefined : Number(declared),
            headers: head.headers,
            stream: exchange.bodyStream()
          })
        }
        if (!acceptsContentType(route, contentType)) {
          return respond(errorOutgoing(new UnsupportedMediaType({ message: `send the body as ${route.payloadTypes.join(" or ")}` })))
        }
        const tooLarge = () =>
          respond(errorOutgoing(new PayloadTooLarge({ message: `body is larger than ${limits.jsonBodyBytes} bytes` })))
        if (Number(head.headers["content-length"] ?? "0") > limits.jsonBodyBytes) return tooLarge()
        exchange.readBody(limits.jsonBodyBytes, (body) =>
          guard(() => {
            if (body === "tooLarge") return tooLarge()
            const json = readJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"), limits.jsonDepth)
            if (json._tag === "Invalid") return respond(errorOutgoing(new BadRequest({ message: json.message })))
            run(route, params, json.value, undefined, body)
          }))
      }

      const guard = (f: () => void) => {
        try {
          f()
        } catch (defect) {
          failed(Cause.die(defect))
        }
      }

      exchange.onAbort(() => {
        fiber?.unsafeInterruptAsFork(FiberId.none)
      })

      guard(() => {
        if (head.badLength) {
          return respond(errorOutgoing(new BadRequest({ message: "Content-Length must be one decimal number" }), {}, true))
        }
        if (head.path.length + head.query.length + 1 > limits.urlBytes) {
          return respond(errorOutgoing(new UriTooLong({ message: `the request target is longer than ${limits.urlBytes} bytes` }), {}, true))
        }
        if (head.headerBytes > limits.headerBytes) {
          return respond(
            errorOutgoing(new HeadersTooLarge({ message: `the request headers are larger than ${limits.headerBytes} bytes` }), {}, true)
          )
        }
        if (match !== undefined) return dispatch(match.route, match.params)
        if (method === "OPTIONS") {
          label = "preflight"
          const answer = preflight(head.headers.origin, corsOrigins, head.headers["access-control-request-headers"])
          return respond({ status: answer.status, headers: answer.headers, body: undefined })
        }
        const found = lookup(routes, method, head.path)
        if (found._tag === "Found") return dispatch(found.route, found.params)
        if (method === "GET" || method === "HEAD") {
          const asset = docAssets[head.path] ?? siteAssets[head.path]
          if (asset !== undefined) {
            label = head.path
            let bytes = docBytes.get(head.path)
            if (bytes === undefined) {
              bytes = Buffer.from(asset.body())
              docBytes.set(head.path, bytes)
            }
            return respond({
              status: 200,
              headers: { "content-type": asset.contentType, "cache-control": asset.cacheControl },
              body: bytes
            })
          }
          const web = found._tag === "NotFound" ? webAsset(head.path, head.headers["accept-encoding"]) : undefined
          if (web !== undefined) {
            label = "web"
            return respond(web)
          }
        }
        if (found._tag === "MethodNotAllowed") {
          return respond(
            errorOutgoing(new MethodNotAllowed({ message: `${method} is not allowed on ${head.path}` }), { allow: found.allow.join(", ") })
          )
        }
        respond(errorOutgoing(new NotFound({ message: `no route for ${method} ${head.path}` })))
      })
    }

    return { routes, serve } satisfies Pipeline
  })

const INTERNAL = JSON.stringify({ error: { code: "InternalError", message: "internal error" } })
