/**
 * The uWS transport: a thin adapter over the request pipeline. uWS's own router dispatches each
 * endpoint of the compiled route table (GET routes answer HEAD too); everything else — preflight,
 * docs, the web client, 404/405 — goes through the pipeline's lookup. The port is taken
 * exclusively, so a second server on a port in use fails to start instead of sharing it.
 * Shutdown stops listening, lets in-flight requests finish (up to the grace period), then closes
 * what is left.
 */
import { Cause, Effect, Layer, Runtime } from "effect"
import type * as UWS from "uWebSockets.js"
import { AppConfig } from "../../config/AppConfig.ts"
import { Auth } from "../Auth.ts"
import type { ApiHandlers, HandlerServices, ServerServices } from "../Handlers.ts"
import { makeInFlight } from "../pipeline/InFlight.ts"
import { make as makePipeline } from "../pipeline/Pipeline.ts"
import { PortInUse } from "../PortInUse.ts"
import type { CompiledRoute } from "../Routes.ts"
import { CurrentTransport, HttpListening } from "../Transport.ts"
import { Gateway } from "../ws/Gateway.ts"
import { makeExchange, readHead } from "./UwsExchange.ts"
import { behaviour } from "./UwsSocket.ts"

export type Uws = typeof UWS

const LIBUS_LISTEN_EXCLUSIVE_PORT = 1

export const make = (uws: Uws, handlers: ApiHandlers<HandlerServices>) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const gateway = yield* Gateway
    const auth = yield* Auth
    const pipeline = yield* makePipeline(handlers)
    const runtime = yield* Effect.runtime<ServerServices>()
    const runFork = Runtime.runFork(runtime)
    const app = uws.App()
    const inFlight = yield* makeInFlight

    /** The last line of defence: nothing thrown in a callback may reach uWS (it would kill the process). */
    const guard = (where: string, f: () => void) => {
      try {
        f()
      } catch (defect) {
        runFork(Effect.logError(`uWS ${where} callback failed`, Cause.die(defect)))
      }
    }
    const hooks = { runFork, closing: inFlight.closing, finished: inFlight.finished }

    const serveNative = (method: string, route?: CompiledRoute) => (res: UWS.HttpResponse, req: UWS.HttpRequest) =>
      guard("request", () => {
        let params: Array<string> | undefined
        if (route !== undefined) {
          params = []
          for (let i = 0; i < route.paramNames.length; i++) params.push(req.getParameter(i) ?? "")
        }
        const m = method === "ANY" ? req.getCaseSensitiveMethod().toUpperCase() : method
        const head = readHead(res, req, m)
        inFlight.started()
        const exchange = makeExchange(res, m, head.headers["content-length"], hooks)
        const match = route === undefined ? undefined : { route, params: params! }
        // a request whose length is ambiguous is answered on the next turn: uWS then drops the
        // connection if the client pipelined more behind it, so nothing smuggled is ever served
        if (head.badLength) return void setImmediate(() => guard("request", () => pipeline.serve(head, exchange, match)))
        try {
          pipeline.serve(head, exchange, match)
        } catch (defect) {
          // the pipeline guards itself; should that ever fail, the client still gets an answer
          runFork(Effect.logError("request pipeline failed", Cause.die(defect)))
          if (!exchange.aborted()) res.cork(() => res.writeStatus("500 Internal Server Error").end(undefined, true))
        }
      })

    for (const route of pipeline.routes) {
      const pattern = route.path
      switch (route.method) {
        case "GET":
          app.get(pattern, serveNative("GET", route))
          app.head(pattern, serveNative("HEAD", route))
          break
        case "POST":
          app.post(pattern, serveNative("POST", route))
          break
        case "PUT":
          app.put(pattern, serveNative("PUT", route))
          break
        case "PATCH":
          app.patch(pattern, serveNative("PATCH", route))
          break
        case "DELETE":
          app.del(pattern, serveNative("DELETE", route))
          break
      }
    }

    app.ws("/ws", behaviour({ config, auth, gateway, runFork, guard }))
    app.any("/*", serveNative("ANY"))

    const listenSocket = yield* Effect.async<UWS.us_listen_socket, PortInUse>((resume) => {
      // the native listen takes host, port, options and callback (the typings lack this overload)
      const listen = app.listen as unknown as (
        host: string,
        port: number,
        options: number,
        cb: (token: UWS.us_listen_socket | false) => void
      ) => void
      listen.call(app, config.host, config.port, LIBUS_LISTEN_EXCLUSIVE_PORT, (token) => {
        resume(token ? Effect.succeed(token) : Effect.fail(new PortInUse({ host: config.host, port: config.port })))
      })
    })
    const port = uws.us_socket_local_port(listenSocket as never)
    yield* Effect.logInfo(`listening on http://${config.host}:${port} (uws)`)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        uws.us_listen_socket_close(listenSocket)
        yield* inFlight.drain(config.shutdownGraceMillis)
        app.close()
        yield* Effect.logInfo("http server closed (uws)")
      })
    )
    return { port }
  })

export const layer = (uws: Uws, handlers: ApiHandlers<HandlerServices>) =>
  Layer.scoped(HttpListening, make(uws, handlers)).pipe(Layer.provide(Layer.succeed(CurrentTransport, "uws")))
