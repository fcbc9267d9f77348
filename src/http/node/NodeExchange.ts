/**
 * One node:http request as the pipeline sees it: the head from `req` (Content-Length checked over
 * the raw header list, since node keeps only the first of duplicates), the body read with a hard
 * limit or as a stream with backpressure, and the response written with backpressure. Every
 * stream here has an 'error' listener: a client that goes away is an abort, never an exception.
 */
import { Cause, Effect, Stream } from "effect"
import type * as Http from "node:http"
import type { Outgoing } from "../pipeline/Outgoing.ts"
import type { Exchange, RequestHead } from "../pipeline/Pipeline.ts"
import { ExchangeLifecycle } from "../pipeline/InFlight.ts"
import { drainable, headCollector } from "../pipeline/Input.ts"
import { BodyError } from "../RequestBody.ts"

export const readHead = (req: Http.IncomingMessage): RequestHead => {
  const url = req.url ?? "/"
  const q = url.indexOf("?")
  const head = headCollector()
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) head.add(raw[i]!.toLowerCase(), raw[i + 1]!)
  return {
    method: (req.method ?? "GET").toUpperCase(),
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? "" : url.slice(q + 1),
    remoteAddress: req.socket.remoteAddress ?? "",
    ...head.done()
  }
}

export interface NodeExchangeHooks {
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown
  readonly closing: () => boolean
  readonly finished: () => void
}

export const makeExchange = (req: Http.IncomingMessage, res: Http.ServerResponse, hooks: NodeExchangeHooks): Exchange => {
  const life = new ExchangeLifecycle(hooks.finished)
  // a request that declares no body has none; one that does is read to its end or the connection closes
  const declaresBody = (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0") ||
    req.headers["transfer-encoding"] !== undefined
  req.on("error", () => undefined)
  res.on("error", () => undefined)
  res.on("close", () => {
    if (!res.writableFinished) life.abort()
    life.finish()
  })
  return {
    aborted: () => life.aborted,
    onAbort: life.onAbort,
    bodyEnded: () => !declaresBody || req.complete,
    canDrain: () => drainable(req.headers["content-length"]),
    readBody: (limit, cb) => {
      const chunks: Array<Buffer> = []
      let size = 0
      let over = false
      req.on("data", (chunk: Buffer) => {
        if (over) return
        size += chunk.byteLength
        if (size > limit) {
          // the rest is read and dropped while the 413 goes out: closing on unread bytes would
          // reset the connection before the client reads the answer (the idle timeout bounds it)
          over = true
          return cb("tooLarge")
        }
        chunks.push(chunk)
      })
      req.on("end", () => {
        if (!over) cb(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
      })
    },
    bodyStream: () =>
      Stream.fromAsyncIterable(
        req as AsyncIterable<Buffer>,
        (e) => new BodyError({ reason: life.aborted ? "the client went away" : e instanceof Error ? e.message : String(e) })
      ).pipe(Stream.map((chunk) => new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))),
    send: (out, extra, close, done) => {
      if (life.aborted || res.destroyed) {
        done()
        return life.finish()
      }
      const closeAfter = close || hooks.closing()
      // an unread body the pipeline chose to drain flows and is dropped (node dumps it once the response ends)
      if (!closeAfter && declaresBody && !req.complete) req.resume()
      writeResponse(hooks, req, res, out, extra, closeAfter, () => {
        done()
        life.finish()
      })
    }
  }
}

const writeResponse = (
  hooks: NodeExchangeHooks,
  req: Http.IncomingMessage,
  res: Http.ServerResponse,
  out: Outgoing,
  extra: ReadonlyArray<readonly [string, string]>,
  close: boolean,
  done: () => void
) => {
  res.statusCode = out.status
  for (const k in out.headers) res.setHeader(k, out.headers[k]!)
  const cookies: Array<string> = []
  for (const [k, v] of extra) {
    if (k === "set-cookie") cookies.push(v)
    else res.setHeader(k, v)
  }
  if (cookies.length > 0) res.setHeader("set-cookie", cookies)
  if (close) res.setHeader("connection", "close")
  const body = out.body
  if (body === undefined || typeof body === "string" || body instanceof Uint8Array) {
    if (body !== undefined && out.status !== 204 && out.status !== 304) {
      res.setHeader("content-length", typeof body === "string" ? Buffer.byteLength(body) : body.byteLength)
    }
    // node leaves the body out for HEAD, 204 and 304 itself
    res.end(body)
    return done()
  }
  if (req.method === "HEAD") {
    res.end()
    return done()
  }
  const drained = Effect.async<void>((resume) => {
    const onDrain = () => {
      res.off("close", onDrain)
      resume(Effect.void)
    }
    res.once("drain", onDrain)
    res.once("close", onDrain)
  })
  const pump = Stream.runForEach(body, (chunk) =>
    Effect.suspend(() => {
      if (res.destroyed) return Effect.interrupt
      return res.write(chunk) ? Effect.void : drained
    })).pipe(
      Effect.matchCauseEffect({
        onSuccess: () => Effect.sync(() => void (res.destroyed ? undefined : res.end())),
        onFailure: (cause) =>
          Effect.sync(() => void res.destroy()).pipe(
            Effect.zipRight(Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("response stream failed", cause))
          )
      }),
      Effect.ensuring(Effect.sync(done))
    )
  hooks.runFork(pump)
}
