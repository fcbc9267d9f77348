/** Hostile building blocks: broken percent-encoding, text PostgreSQL cannot store, deep JSON, junk. */
import fc from "fast-check"

/** Percent-encodings `decodeURIComponent` refuses (or that decode to something no name can hold). */
export const badPercent = fc.constantFrom(
  "%E0", "%ZZ", "%FF", "abc%", "%C0%80", "%ED%A0%80", "%", "%2", "%%", "%u0041", "%F4%90%80%80", "%F0%9F%98", "%E0%80%AF",
  "%80", "%C3", "%ED%BF%BF", "%FE%FF", "%0", "%G1", "%2F..%2F", "%00"
)

/** A path segment: the valid (already encoded) value with a broken escape before, inside or after it. */
export const brokenSegment = (valid: string) =>
  fc.tuple(badPercent, fc.constantFrom("prefix", "suffix", "middle", "alone", "twice")).map(([bad, where]) => {
    const mid = Math.floor(valid.length / 2)
    switch (where) {
      case "prefix":
        return bad + valid
      case "suffix":
        return valid + bad
      case "middle":
        return valid.slice(0, mid) + bad + valid.slice(mid)
      case "alone":
        return bad
      default:
        return bad + valid + bad
    }
  })

/** Strings with a NUL in them, as JSON text would carry them (after parsing). */
export const withNul = (s: string) =>
  fc.constantFrom("start", "end", "middle", "only", "many").map((where) => {
    const mid = Math.floor(s.length / 2)
    switch (where) {
      case "start":
        return "\u0000" + s
      case "end":
        return s + "\u0000"
      case "middle":
        return s.slice(0, mid) + "\u0000" + s.slice(mid)
      case "only":
        return "\u0000"
      default:
        return `a\u0000b\u0000${s}\u0000`
    }
  })

/** Strings with an unpaired UTF-16 surrogate (JSON.stringify writes them as `\ud800` escapes). */
export const withLoneSurrogate = (s: string) =>
  fc.tuple(fc.constantFrom("\ud800", "\udfff", "\udbff", "\udc00", "\ud83d"), fc.boolean()).map(([sur, before]) =>
    before ? sur + s : s + sur
  )

/** Percent-encoded hostile text for paths and query strings. */
export const hostileEscape = fc.constantFrom("%00", "a%00b", "%00%00", "%ED%A0%80", "%ED%BF%BF", "x%ED%A0%80y", "%C0%80")

export interface DeepJson {
  readonly shape: "array" | "object" | "mixed" | "in-field"
  readonly depth: number
}

/** Nesting ~4,000 deep (8 KB) most often, up to 30,000 (60 KB, still under the JSON body limit). */
export const deepJson: fc.Arbitrary<DeepJson> = fc.record({
  shape: fc.constantFrom("array", "object", "mixed", "in-field"),
  depth: fc.oneof({ weight: 3, arbitrary: fc.constant(4000) }, { weight: 2, arbitrary: fc.integer({ min: 500, max: 30_000 }) })
})

export const deepJsonText = ({ depth, shape }: DeepJson, field: string) => {
  switch (shape) {
    case "array":
      return "[".repeat(depth) + "]".repeat(depth)
    case "object":
      // 5 bytes a level: kept under the body limit
      return "{\"a\":".repeat(Math.min(depth, 12_000)) + "1" + "}".repeat(Math.min(depth, 12_000))
    case "mixed":
      return "[{\"a\":".repeat(Math.min(depth, 9000)) + "0" + "}]".repeat(Math.min(depth, 9000))
    default:
      return `{${JSON.stringify(field)}:` + "[".repeat(depth) + "]".repeat(depth) + "}"
  }
}

/** Content types a JSON route must refuse (or read the body as JSON regardless of their parameters). */
export const wrongContentType = fc.constantFrom<string | undefined>(
  undefined,
  "",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=",
  "application/jsonx",
  "application/json, text/plain",
  "json",
  "APPLICATION/JSON",
  "application/json; charset=utf-16",
  "application/octet-stream",
  "image/png",
  ";;;",
  "application/json\u0001",
  "*/*"
)

/** Junk bodies to send with a wrong type. */
export const junkBody = fc.oneof(
  fc.constant(Buffer.from("{\"a\":1}")),
  fc.constant(Buffer.from("a=1&b=2")),
  fc.uint8Array({ minLength: 0, maxLength: 200 }).map((u) => Buffer.from(u)),
  fc.string({ maxLength: 100 }).map((s) => Buffer.from(s))
)

/** Raw bytes that are not HTTP, to follow a valid request on the same connection. */
export const garbage = fc.oneof(
  fc.constant("GARBAGE\r\n\r\n"),
  fc.constant("\u0000\u0001\u0002\r\n\r\n"),
  fc.constant("GET /healthz HTTP/9.9\r\n\r\n"),
  fc.constant("GET  HTTP/1.1\r\nHost: x\r\n\r\n"),
  fc.constant("POST /api/v1/system/echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
  fc.constant("\r\n\r\n\r\n\r\n"),
  fc.constant("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
  fc.string({ minLength: 1, maxLength: 200 }).map((s) => `${s.replace(/\r?\n/g, " ")}\r\n\r\n`),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((u) => `${Buffer.from(u).toString("latin1")}\r\n\r\n`)
)

/** Header lines no parser should accept quietly (NUL, bare CR, folding, no colon, 8-bit names). */
export const junkHeaderLine = fc.constantFrom(
  "x-nul: a\u0000b",
  "x-cr: a\rb",
  "x-fold: a\r\n  folded",
  "no colon here",
  ": empty-name",
  "x-\u00ff: eight-bit-name",
  "x-ctl: \u0007\u001b",
  "authorization: Bearer \u0000",
  "authorization: Bearer %ZZ",
  "cookie: ap_session=\u0000; x=%E0",
  "host: a\u0000b",
  "content-type: application/json\u0000",
  "x-request-id: \u00ff\u00fe"
)
