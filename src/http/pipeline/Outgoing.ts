/**
 * A response as the pipeline hands it to a transport: status, headers (lower-case names) and a
 * body that is text, bytes, a byte stream (written with backpressure) or nothing. `close` asks the
 * transport to close the connection after writing (a body left unread, a refused request head).
 */
import { HttpServerResponse } from "@effect/platform"
import type { Stream } from "effect"
import { encodeApiError, type ErrorResponse } from "../ErrorResponse.ts"
import type { EncodedBody } from "../Routes.ts"

export interface Outgoing {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | Uint8Array | Stream.Stream<Uint8Array, unknown> | undefined
  readonly close?: boolean
}

export const fromEncoded = (e: EncodedBody): Outgoing => ({
  status: e.status,
  headers: e.contentType === undefined ? {} : { "content-type": e.contentType },
  body: e.body
})

/** A platform response (handlers return them for media, streams and pre-encoded JSON). */
export const fromServerResponse = (r: HttpServerResponse.HttpServerResponse): Outgoing => {
  const headers: Record<string, string> = { ...r.headers }
  const body = r.body
  // the transports state the length of a sized body themselves
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

export const fromErrorResponse = (e: ErrorResponse, close = false): Outgoing => ({
  status: e.status,
  headers: { "content-type": "application/json", ...e.headers },
  body: e.body,
  close
})

/** The response for a known API error (`BadRequest`, `NotFound`, …). */
export const errorOutgoing = (error: unknown, extra: Record<string, string> = {}, close = false): Outgoing => {
  const e = encodeApiError(error)!
  return { status: e.status, headers: { "content-type": "application/json", ...e.headers, ...extra }, body: e.body, close }
}

/** HTTP status lines uWS needs spelled out. */
const STATUS_TEXT: Record<number, string> = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request",
  401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
  409: "Conflict", 411: "Length Required", 413: "Payload Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
  416: "Range Not Satisfiable", 422: "Unprocessable Entity", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
  499: "Client Closed Request", 500: "Internal Server Error", 503: "Service Unavailable"
}
const lines = new Map<number, string>()
export const statusLine = (status: number) => {
  let line = lines.get(status)
  if (line === undefined) {
    line = STATUS_TEXT[status] === undefined ? String(status) : `${status} ${STATUS_TEXT[status]}`
    lines.set(status, line)
  }
  return line
}
