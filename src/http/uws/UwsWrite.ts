/**
 * Writing a response on uWS: small bodies in one corked call, large ones chunked on `onWritable`,
 * streams with backpressure (`tryEnd` for a known length, chunked `write` otherwise). HEAD gets
 * the head and the length of the body it would have had, never the body.
 */
import { Cause, Effect, Stream } from "effect"
import type * as UWS from "uWebSockets.js"
import type { Outgoing } from "../pipeline/Outgoing.ts"
import { statusLine } from "../pipeline/Outgoing.ts"

export interface WriteState {
  aborted: boolean
}

export interface WriteOptions {
  readonly extra: ReadonlyArray<readonly [string, string]>
  readonly close: boolean
  readonly head: boolean
}

const SMALL = 64 * 1024

/** Writes `out` on `res`; `done` runs when the response is written (or the client went away). */
export const write = (
  runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown,
  res: UWS.HttpResponse,
  state: WriteState,
  out: Outgoing,
  options: WriteOptions,
  done: () => void
) => {
  if (state.aborted) return done()
  const { extra } = options
  const writeHead = (headers: Readonly<Record<string, string>>) => () => {
    res.writeStatus(statusLine(out.status))
    // a header the pipeline adds replaces the handler's; only set-cookie may repeat
    for (const k in headers) if (!extra.some(([e]) => e === k)) res.writeHeader(k, headers[k]!)
    for (const [k, v] of extra) res.writeHeader(k, v)
  }
  const body = out.body
  const noBody = out.status === 204 || out.status === 304
  if (body === undefined || typeof body === "string" || (body instanceof Uint8Array && body.byteLength <= SMALL) || options.head) {
    res.cork(() => {
      writeHead(out.headers)()
      if (noBody) return void res.endWithoutBody(undefined, options.close)
      if (options.head) {
        const length = body === undefined
          ? 0
          : typeof body === "string"
          ? Buffer.byteLength(body)
          : body instanceof Uint8Array
          ? body.byteLength
          : Number(out.headers["content-length"] ?? NaN)
        return void (Number.isFinite(length) ? res.endWithoutBody(length, options.close) : res.endWithoutBody(undefined, options.close))
      }
      // any other empty answer says Content-Length: 0
      res.end(body as string | Uint8Array | undefined, options.close)
    })
    return done()
  }
  if (body instanceof Uint8Array) return writeLarge(res, state, body, writeHead(out.headers), done)
  const length = out.headers["content-length"]
  if (length === undefined) return writeStream(runFork, res, state, body, writeHead(out.headers), done, undefined)
  const { "content-length": _, ...rest } = out.headers
  return writeStream(runFork, res, state, body, writeHead(rest), done, Number(length))
}

const writeLarge = (res: UWS.HttpResponse, state: WriteState, body: Uint8Array, head: () => void, done: () => void) => {
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
  runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown,
  res: UWS.HttpResponse,
  state: WriteState,
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
