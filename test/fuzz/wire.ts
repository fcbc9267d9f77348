/**
 * HTTP/1.1 spoken by hand over `node:net`, so the fuzzer can send what no well-behaved client
 * would (two Content-Lengths, a NUL in a header, a lying length, garbage after a request) and tell
 * exactly what came back: complete responses, the connection closing, or nothing by the deadline.
 */
import * as net from "node:net"

export interface Reply {
  readonly status: number
  /** Lower-cased names, in the order received. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: Buffer
}

export const header = (reply: Reply, name: string) => reply.headers.find(([k]) => k === name)?.[1]

/** One step of what a client sends: bytes, a pause, a half-close (FIN) or a reset. */
export type Step =
  | { readonly write: Buffer | string }
  | { readonly wait: number }
  | { readonly end: true }
  | { readonly destroy: true }

export interface Exchange {
  /** Complete responses, in order. */
  readonly replies: ReadonlyArray<Reply>
  /** The server closed (or reset) the connection. */
  readonly closed: boolean
  /** The deadline passed with the connection still open and fewer responses than expected. */
  readonly timedOut: boolean
  /** Bytes received that did not form a complete response. */
  readonly leftover: number
  /** Milliseconds from connecting to the end of the exchange. */
  readonly ms: number
}

export interface ExchangeOptions {
  /** Methods of the requests whose responses are awaited, in order (HEAD responses have no body). */
  readonly methods: ReadonlyArray<string>
  /** Milliseconds allowed from connecting to the last expected response (or the close). */
  readonly deadlineMs: number
  /**
   * Once this many responses are in, the rest (answers to garbage) are waited for only `graceMs`
   * more: a server may legitimately sit on an incomplete request until its own timeout.
   */
  readonly minReplies?: number
  readonly graceMs?: number
}

type Parsed = { readonly reply: Reply; readonly used: number } | "incomplete" | "invalid"

/** Parses one response from the start of `buf`; `eof` says no more bytes will come. */
const parseOne = (buf: Buffer, method: string, eof: boolean): Parsed => {
  const end = buf.indexOf("\r\n\r\n")
  if (end < 0) return buf.length > 1024 * 1024 ? "invalid" : "incomplete"
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n")
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)
  if (m === null) return "invalid"
  const status = Number(m[1])
  const headers = lines.slice(1).map((l) => {
    const i = l.indexOf(":")
    return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const
  })
  const get = (n: string) => headers.find(([k]) => k === n)?.[1]
  const start = end + 4
  if (status >= 100 && status < 200 && status !== 101) {
    // an interim response: the real one follows
    const next = parseOne(buf.subarray(start), method, eof)
    return typeof next === "string" ? next : { reply: next.reply, used: start + next.used }
  }
  if (method === "HEAD" || status === 204 || status === 304) return { reply: { status, headers, body: Buffer.alloc(0) }, used: start }
  if ((get("transfer-encoding") ?? "").toLowerCase().includes("chunked")) {
    const parts: Array<Buffer> = []
    let at = start
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at)
      if (lineEnd < 0) return "incomplete"
      const size = parseInt(buf.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16)
      if (!Number.isFinite(size)) return "invalid"
      if (size === 0) {
        // trailers end with an empty line
        const trailerEnd = buf.indexOf("\r\n\r\n", lineEnd)
        const after = buf.subarray(lineEnd, lineEnd + 2).toString() === "\r\n" && buf.length >= lineEnd + 4 &&
            buf.subarray(lineEnd + 2, lineEnd + 4).toString() === "\r\n"
          ? lineEnd + 4
          : trailerEnd < 0
          ? -1
          : trailerEnd + 4
        if (after < 0) return "incomplete"
        return { reply: { status, headers, body: Buffer.concat(parts) }, used: after }
      }
      if (buf.length < lineEnd + 2 + size + 2) return "incomplete"
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
  }
  const length = get("content-length")
  if (length !== undefined) {
    const n = Number(length)
    if (!Number.isInteger(n) || n < 0) return "invalid"
    if (buf.length < start + n) return "incomplete"
    return { reply: { status, headers, body: buf.subarray(start, start + n) }, used: start + n }
  }
  // no length: the body runs to the close
  return eof ? { reply: { status, headers, body: buf.subarray(start) }, used: buf.length } : "incomplete"
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Connects, plays `steps`, and collects responses until every expected one arrived, the server
 * closed, or the deadline passed. Never throws: socket errors (resets, broken pipes) count as a close.
 */
export const exchange = (port: number, steps: ReadonlyArray<Step>, options: ExchangeOptions) =>
  new Promise<Exchange>((resolve) => {
    const started = performance.now()
    const socket = net.connect({ port, host: "127.0.0.1" })
    socket.setNoDelay(true)
    let received = Buffer.alloc(0)
    const replies: Array<Reply> = []
    let closed = false
    let finished = false
    let aborted = false
    let grace: ReturnType<typeof setTimeout> | undefined

    const finish = (timedOut: boolean) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearTimeout(grace)
      socket.destroy()
      resolve({ replies, closed, timedOut, leftover: received.length, ms: Math.round(performance.now() - started) })
    }
    const parse = (eof: boolean) => {
      while (replies.length < options.methods.length) {
        const r = parseOne(received, options.methods[replies.length]!, eof)
        if (r === "incomplete") break
        if (r === "invalid") {
          // unparseable bytes: nothing more can be read from this connection
          return finish(false)
        }
        replies.push(r.reply)
        received = received.subarray(r.used)
      }
      if (replies.length >= options.methods.length && !aborted) return finish(false)
      if (options.minReplies !== undefined && replies.length >= options.minReplies && grace === undefined && !aborted) {
        grace = setTimeout(() => finish(false), options.graceMs ?? 1000)
      }
    }
    const timer = setTimeout(() => finish(true), options.deadlineMs)
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      parse(false)
    })
    const onClose = () => {
      if (finished) return
      closed = true
      parse(true)
      finish(false)
    }
    socket.on("end", onClose)
    socket.on("close", onClose)
    socket.on("error", () => undefined)

    const writeAll = (data: Buffer | string) =>
      new Promise<void>((done) => {
        if (socket.destroyed || finished) return done()
        const ok = socket.write(data, () => undefined)
        if (ok) return done()
        const resume = () => {
          socket.off("drain", resume)
          socket.off("close", resume)
          done()
        }
        socket.on("drain", resume)
        socket.on("close", resume)
      })

    socket.once("connect", async () => {
      for (const step of steps) {
        if (finished || socket.destroyed) return
        if ("write" in step) await writeAll(step.write)
        else if ("wait" in step) await sleep(step.wait)
        else if ("end" in step) socket.end()
        else {
          // the client gives up: its responses no longer matter, only the server's health does
          aborted = true
          closed = false
          clearTimeout(timer)
          clearTimeout(grace)
          finished = true
          socket.resetAndDestroy()
          return resolve({ replies, closed: false, timedOut: false, leftover: received.length, ms: Math.round(performance.now() - started) })
        }
      }
    })
  })

/** The bytes of one request: a request line, the headers as given (repeats allowed), a blank line, a body. */
export const requestBytes = (
  method: string,
  target: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body?: Buffer | string
) =>
  Buffer.concat([
    Buffer.from(`${method} ${target} HTTP/1.1\r\n` + headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n", "latin1"),
    body === undefined ? Buffer.alloc(0) : typeof body === "string" ? Buffer.from(body, "utf8") : body
  ])

/** A well-formed request and its one response (or undefined when none came). */
export const fetchRaw = async (
  port: number,
  method: string,
  target: string,
  deadlineMs: number,
  headers: ReadonlyArray<readonly [string, string]> = [],
  body?: Buffer | string
): Promise<Reply | undefined> => {
  const bytes = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body, "utf8") : body
  const all: Array<readonly [string, string]> = [["host", `127.0.0.1:${port}`], ...headers]
  if (bytes !== undefined) all.push(["content-length", String(bytes.length)])
  const x = await exchange(port, [{ write: requestBytes(method, target, all, bytes) }], { methods: [method], deadlineMs })
  return x.replies[0]
}
