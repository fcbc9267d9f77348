/**
 * A fuzz case as plain, printable data (what the generators produce and what the report shows),
 * turned into bytes on the wire only when it runs — the session token and the ids of the fixtures
 * are known then. What counts as a pass is part of the case.
 */
import type { Step } from "./wire.ts"

/** Which credentials go with a request: the fuzz account's bearer token or cookie, a bogus token, none. */
export type Auth = "none" | "bearer" | "cookie" | "bogus"

export interface RequestSpec {
  readonly method: string
  /** Path and query, percent-encoded; `$POST` stands for the fixture post's id. */
  readonly target: string
  /** Headers after Host, as sent (repeats allowed). */
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly auth: Auth
  readonly body?: Buffer
  /** How the body is framed: Content-Length (the default), chunked in these sizes, or not at all. */
  readonly framing?: "length" | "none" | { readonly chunks: ReadonlyArray<number> }
  readonly noHost?: boolean
}

/** A point in what a case sends: a byte count from the start or the end, or a fraction of it. */
export type Offset = { readonly bytes: number } | { readonly fromEnd: number } | { readonly fraction: number }

export const resolveOffset = (o: Offset, total: number) =>
  Math.max(0, Math.min(total, "bytes" in o ? o.bytes : "fromEnd" in o ? total - o.fromEnd : Math.floor(total * o.fraction)))

/** How the bytes go out. */
export type Delivery =
  | { readonly kind: "whole" }
  /** In pieces of `size` bytes with a pause after each: slow, but complete. */
  | { readonly kind: "pieces"; readonly size: number; readonly waitMs: number }
  /** The bytes up to `at`, then nothing more (the connection stays open). */
  | { readonly kind: "stall"; readonly at: Offset }
  /** The bytes up to `at` (the end of a header line), then one more header byte every `waitMs`, forever. */
  | { readonly kind: "trickle"; readonly at: Offset; readonly waitMs: number }
  /** The bytes up to `at`, a pause, then the client half-closes (`end`) or resets (`destroy`). */
  | { readonly kind: "cut"; readonly at: Offset; readonly how: "end" | "destroy"; readonly waitMs: number }

/**
 * What passes (none of them allows a 5xx):
 * - `answer`: every request gets a response;
 * - `answer-or-close`: responses, or the server closes the connection (malformed HTTP);
 * - `refuse`: no 2xx — a 4xx or a close (a request smuggling primitive must not be served);
 * - `close-in-time`: the server answers or closes before the idle deadline (slow clients);
 * - `survive`: the client gives up; only the server's health counts;
 * - `same-as-get`: a HEAD answers with the status GET gives the same URL, and no body.
 */
export type Expect = "answer" | "answer-or-close" | "refuse" | "close-in-time" | "survive" | "same-as-get"

export interface Spec {
  readonly class: string
  /** The contract endpoint (`group.name`), or what the case aims at. */
  readonly endpoint: string
  readonly requests: ReadonlyArray<RequestSpec>
  /** Bytes sent after the requests on the same connection. */
  readonly garbage?: string
  readonly delivery: Delivery
  readonly expect: Expect
  /**
   * The case sends something other than a well-formed HTTP/1.1 request (garbage, broken framing, a
   * method HTTP does not define): the server may wait for the rest of a request it cannot parse until
   * its header timeout, and may refuse with the 5xx that HTTP prescribes for exactly that — 501 (a
   * method or transfer coding it does not implement) or 505 (not HTTP/1.1). Any other 5xx fails.
   */
  readonly malformed?: boolean
  /** Responses that must arrive (default: one per request). */
  readonly minReplies?: number
  /** Responses that may arrive (default: one per request, one more for garbage). */
  readonly maxReplies?: number
}

/** The methods of the responses a case waits for, in order (a HEAD's response has no body). */
export const expectedMethods = (spec: Spec) => {
  const methods = spec.requests.map((r) => r.method)
  const max = spec.maxReplies ?? methods.length + (spec.garbage ? 1 : 0)
  while (methods.length < max) methods.push("GET")
  return methods.slice(0, max)
}

export interface Fixtures {
  readonly token: string
  /** `ap_session=…`, as the sign-up set it. */
  readonly cookie: string
  readonly postId: string
}

const bogusToken = "fuzz-this-is-not-a-session-token-000000000000"

const authHeaders = (auth: Auth, f: Fixtures): Array<readonly [string, string]> => {
  switch (auth) {
    case "bearer":
      return [["authorization", `Bearer ${f.token}`]]
    case "cookie":
      return [["cookie", f.cookie]]
    case "bogus":
      return [["authorization", `Bearer ${bogusToken}`]]
    default:
      return []
  }
}

export const materializeTarget = (target: string, f: Fixtures) => target.replaceAll("$POST", f.postId)

const chunked = (body: Buffer, sizes: ReadonlyArray<number>) => {
  const out: Array<Buffer> = []
  let at = 0
  let i = 0
  while (at < body.length) {
    const n = Math.max(1, Math.min(sizes[i++ % Math.max(1, sizes.length)] ?? body.length, body.length - at))
    out.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(at, at + n), Buffer.from("\r\n"))
    at += n
  }
  out.push(Buffer.from("0\r\n\r\n"))
  return Buffer.concat(out)
}

/** The bytes of one request. */
export const requestWire = (r: RequestSpec, f: Fixtures) => {
  const headers: Array<readonly [string, string]> = [
    ...(r.noHost ? [] : [["host", "127.0.0.1"] as const]),
    ...r.headers,
    ...authHeaders(r.auth, f)
  ]
  let body = r.body
  const framing = r.framing ?? "length"
  if (body !== undefined && framing === "length") headers.push(["content-length", String(body.length)])
  if (body !== undefined && typeof framing === "object") {
    headers.push(["transfer-encoding", "chunked"])
    body = chunked(body, framing.chunks)
  }
  const head = `${r.method} ${materializeTarget(r.target, f)} HTTP/1.1\r\n` + headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n"
  return Buffer.concat([Buffer.from(head, "latin1"), body ?? Buffer.alloc(0)])
}

/** Everything the case sends, in order. */
export const caseWire = (spec: Spec, f: Fixtures) =>
  Buffer.concat([...spec.requests.map((r) => requestWire(r, f)), Buffer.from(spec.garbage ?? "", "latin1")])

/** The delivery as socket steps. */
export const steps = (bytes: Buffer, d: Delivery): Array<Step> => {
  switch (d.kind) {
    case "whole":
      return [{ write: bytes }]
    case "pieces": {
      const out: Array<Step> = []
      for (let at = 0; at < bytes.length; at += d.size) out.push({ write: bytes.subarray(at, at + d.size) }, { wait: d.waitMs })
      return out
    }
    case "stall":
      return [{ write: bytes.subarray(0, resolveOffset(d.at, bytes.length)) }]
    case "trickle": {
      const out: Array<Step> = [{ write: bytes.subarray(0, resolveOffset(d.at, bytes.length)) }]
      // well-formed header lines, a byte at a time, that never end the request (slowloris)
      const line = "x-slow: aaaaaaaaaaaaaaaa\r\n"
      for (let i = 0; i < (4 * 60 * 1000) / d.waitMs; i++) out.push({ wait: d.waitMs }, { write: line[i % line.length]! })
      return out
    }
    case "cut":
      return [
        { write: bytes.subarray(0, resolveOffset(d.at, bytes.length)) },
        { wait: d.waitMs },
        d.how === "end" ? { end: true } : { destroy: true }
      ]
  }
}

/** How long the client itself takes to send everything (for deadlines that start after it). */
export const sendingMs = (bytes: number, d: Delivery) => (d.kind === "pieces" ? Math.ceil(bytes / d.size) * d.waitMs : d.kind === "cut" ? d.waitMs : 0)

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n)}… (${s.length} chars)`)

const printable = (s: string) =>
  s.replace(/[\u0000-\u001f\u007f-\u00ff]/g, (c) => (c === "\r" ? "\\r" : c === "\n" ? "\\n" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))

const bodySketch = (body: Buffer | undefined) => {
  if (body === undefined) return ""
  const text = body.subarray(0, 160).toString("latin1")
  return ` body(${body.length} B): ${printable(clip(text, 120))}`
}

/** One line per request: method, target, headers and a sketch of the body — enough to reproduce it. */
export const describeSpec = (spec: Spec) => {
  const lines = spec.requests.map((r) => {
    const headers = r.headers.map(([k, v]) => `${k}: ${printable(clip(v, 60))}`)
    if (r.auth !== "none") headers.push(`auth: ${r.auth}`)
    const framing = typeof r.framing === "object" ? ` chunked ${r.framing.chunks.slice(0, 4).join(",")}…` : r.framing === "none" ? " (no length)" : ""
    return `${r.method} ${printable(clip(r.target, 140))} [${headers.join("; ")}]${framing}${bodySketch(r.body)}`
  })
  if (spec.garbage) lines.push(`then garbage: ${printable(clip(spec.garbage, 80))}`)
  if (spec.delivery.kind !== "whole") lines.push(`delivery: ${JSON.stringify(spec.delivery)}`)
  return lines.join("\n      ")
}
