/**
 * The standard transport: node:http in front of the same request pipeline the uWS transport
 * uses — what Aperture runs on under Deno and wherever uWS cannot load. The server refuses what
 * node's parser refuses (malformed heads, conflicting lengths, oversize heads) with the API's JSON
 * errors, closes a connection that has not sent its head within HTTP_HEADERS_TIMEOUT_SECONDS, and
 * listens exclusively. `/ws` upgrades are authenticated and served by `ws` behind the same
 * connection interface as on uWS.
 */
import { Cause, Duration, Effect, Layer, Runtime } from "effect"
import * as Http from "node:http"
import type { Duplex } from "node:stream"
import { AppConfig } from "../../config/AppConfig.ts"
import { Auth } from "../Auth.ts"
import type { ApiHandlers, HandlerServices, ServerServices } from "../Handlers.ts"
import { makeInFlight } from "../pipeline/InFlight.ts"
import { make as makePipeline } from "../pipeline/Pipeline.ts"
import { statusLine } from "../pipeline/Outgoing.ts"
import { PortInUse } from "../PortInUse.ts"
import { CurrentTransport, HttpListening } from "../Transport.ts"
import { Gateway } from "../ws/Gateway.ts"
import { makeExchange, readHead } from "./NodeExchange.ts"
import { makeSockets } from "./NodeSocket.ts"

/** A refusal written straight to the socket, for requests node's parser rejects before we see them. */
const rawError = (status: number, code: string, message: string) => {
  const body = JSON.stringify({ error: { code, message } })
  return `HTTP/1.1 ${statusLine(status)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n\r\n${body}`
}

const clientErrorResponse = (error: NodeJS.ErrnoException & { readonly reason?: string }) => {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return rawError(431, "HeadersTooLarge", "the request headers are too large")
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return rawError(408, "RequestTimeout", "the request was not received in time")
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
    case "HPE_INVALID_CONTENT_LENGTH":
      return rawError(400, "BadRequest", "Content-Length must be one decimal number")
    default:
      return rawError(400, "BadRequest", `malformed HTTP request${error.reason ? `: ${error.reason}` : ""}`)
  }
}

export const make = (handlers: ApiHandlers<HandlerServices>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const gateway = yield* Gateway
    const auth = yield* Auth
    const pipeline = yield* makePipeline(handlers)
    const runFork = Runtime.runFork(yield* Effect.runtime<ServerServices>())
    const limits = config.limits
    const inFlight = yield* makeInFlight
    const hooks = { runFork, closing: inFlight.closing, finished: inFlight.finished }

    const server = Http.createServer({
      // the pipeline answers heads over its limits with 414/431 itself; node's parser stops above that
      maxHeaderSize: limits.headerBytes + limits.urlBytes + 1024,
      headersTimeout: limits.headersTimeoutSeconds * 1000,
      // bodies may be large uploads on slow links: bounded, but generously
      requestTimeout: Math.max(120_000, limits.headersTimeoutSeconds * 1000 + 1000),
      connectionsCheckingInterval: 1000,
      keepAliveTimeout: 5_000
    })

    // like uWS: a connection that sends and receives nothing for this long is closed (a body that
    // stalls, a Content-Length larger than what is sent); sockets upgraded to WebSockets opt out
    server.setTimeout(limits.headersTimeoutSeconds * 1000)

    server.on("request", (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      try {
        inFlight.started()
        const exchange = makeExchange(req, res, hooks)
        pipeline.serve(readHead(req), exchange)
      } catch (defect) {
        runFork(Effect.logError("request pipeline failed", Cause.die(defect)))
        if (!res.headersSent && !res.destroyed) res.writeHead(500, { connection: "close" }).end()
      }
    })
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy()
      socket.end(clientErrorResponse(error))
    })

    const sockets = makeSockets({ config, auth, gateway, runFork })
    server.on("upgrade", (req: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        sockets.upgrade(req, socket, head)
      } catch (defect) {
        runFork(Effect.logError("ws upgrade failed", Cause.die(defect)))
        socket.destroy()
      }
    })

    const port = yield* Effect.async<number, PortInUse | Error>((resume) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off("listening", onListening)
        resume(Effect.fail(error.code === "EADDRINUSE" ? new PortInUse({ host: config.host, port: config.port }) : error))
      }
      const onListening = () => {
        server.off("error", onError)
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : config.port))
      }
      server.once("error", onError)
      server.once("listening", onListening)
      server.listen({ port: config.port, host: config.host, exclusive: true })
    })
    server.on("error", (error) => runFork(Effect.logError("http server error", Cause.die(error))))
    yield* Effect.logInfo(`listening on http://${config.host}:${port} (node)`)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const closed = Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
        sockets.closeAll()
        server.closeIdleConnections()
        yield* inFlight.drain(config.shutdownGraceMillis)
        server.closeAllConnections()
        yield* closed.pipe(Effect.timeout(Duration.seconds(5)), Effect.ignore)
        yield* Effect.logInfo("http server closed (node)")
      })
    )
    return { port }
  })

export const layer = (handlers: ApiHandlers<HandlerServices>) =>
  Layer.scoped(HttpListening, make(handlers)).pipe(Layer.provide(Layer.succeed(CurrentTransport, "node")))
