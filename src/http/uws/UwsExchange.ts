/**
 * One uWS request as the pipeline sees it: the head copied synchronously out of `req` (uWS frees
 * it when the callback returns), `onAborted` registered at once, and the body read with a hard
 * limit or as a stream with backpressure (the socket is paused while the handler is behind).
 */
import { Chunk, Effect, Option, Stream } from "effect"
import type * as UWS from "uWebSockets.js"
import type { Exchange, RequestHead } from "../pipeline/Pipeline.ts"
import { ExchangeLifecycle } from "../pipeline/InFlight.ts"
import { drainable, headCollector } from "../pipeline/Input.ts"
import { BodyError } from "../RequestBody.ts"
import { write } from "./UwsWrite.ts"

/** Copies what the pipeline needs out of `req`; must run before the callback returns. */
export const readHead = (res: UWS.HttpResponse, req: UWS.HttpRequest, method: string): RequestHead => {
  const head = headCollector()
  req.forEach(head.add)
  return {
    method,
    path: req.getUrl(),
    query: req.getQuery() ?? "",
    remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
    ...head.done()
  }
}

export interface UwsExchangeHooks {
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown
  /** The server is shutting down: responses ask the client to close. */
  readonly closing: () => boolean
  /** Called once when the response is written or the client went away. */
  readonly finished: () => void
}

export const makeExchange = (
  res: UWS.HttpResponse,
  method: string,
  declaredLength: string | undefined,
  hooks: UwsExchangeHooks
): Exchange => {
  const state = Object.assign(new ExchangeLifecycle(hooks.finished), { responded: false, bodyEnded: true, paused: false })
  res.onAborted(() => {
    state.abort()
    if (!state.responded) state.finish()
  })
  return {
    aborted: () => state.aborted,
    onAbort: state.onAbort,
    bodyEnded: () => state.bodyEnded,
    // uWS frames the rest of the body itself and drops it; a paused stream (streamed routes) cannot be resumed once answered
    canDrain: () => !state.paused && drainable(declaredLength),
    readBody: (limit, cb) => {
      state.bodyEnded = false
      const chunks: Array<Buffer> = []
      let size = 0
      let over = false
      res.onData((chunk, isLast) => {
        if (isLast) state.bodyEnded = true
        if (over) return
        size += chunk.byteLength
        if (size > limit) {
          over = true
          return cb("tooLarge")
        }
        chunks.push(Buffer.from(chunk.slice(0)))
        if (isLast) cb(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
      })
    },
    bodyStream: () => {
      state.bodyEnded = false
      return bodyStream(res, state)
    },
    send: (out, extra, close, done) => {
      state.responded = true
      const all = hooks.closing() ? [...extra, ["connection", "close"] as const] : extra
      write(hooks.runFork, res, state, out, { extra: all, close: close || hooks.closing(), head: method === "HEAD" }, () => {
        done()
        state.finish()
      })
    }
  }
}

/**
 * A request body as a Stream with backpressure: uWS pushes chunks as they arrive, so the socket is
 * paused while more than a few chunks wait for the handler and resumed once it catches up.
 */
const bodyStream = (
  res: UWS.HttpResponse,
  state: { readonly aborted: boolean; readonly responded: boolean; bodyEnded: boolean; paused: boolean }
): Stream.Stream<Uint8Array, BodyError> => {
  const queue: Array<Uint8Array> = []
  let ended = false
  let wake: (() => void) | undefined
  res.onData((chunk, isLast) => {
    queue.push(new Uint8Array(chunk.slice(0)))
    if (isLast) {
      ended = true
      state.bodyEnded = true
    }
    if (!ended && !state.paused && queue.length >= 8 && !state.aborted && !state.responded) {
      state.paused = true
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
        if (state.paused && !state.aborted && !state.responded) {
          state.paused = false
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
