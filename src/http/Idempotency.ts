/**
 * `Idempotency-Key` on creates (IETF draft-ietf-httpapi-idempotency-key-header, Stripe's rules):
 * per user, the first request with a key reserves it in PostgreSQL, runs, and records its response;
 * a repeat with the same request within IDEMPOTENCY_TTL_HOURS gets that response again
 * (`Idempotent-Replayed: true`) without running; a different request with the key is 422
 * `IdempotencyKeyReused`; a repeat while the first still runs is 409 `IdempotencyInProgress`.
 *
 * Only a success is recorded. A failure (4xx or 5xx) created nothing, so it releases the key and a
 * retry runs afresh — a 429 or "not uploaded yet" would otherwise stick for a day. Once reserved
 * the create runs to its end even when the client goes away (it is forked into this service's
 * scope), so an answer lost on the wire is still recorded for the retry. A reservation carries a
 * lease that the running request renews; a node that dies mid-request leaves it to lapse, and a
 * retry after IDEMPOTENCY_LEASE_SECONDS takes the key over.
 *
 * The fingerprint is SHA-256 over method, path with query, and the body as sent; a multipart
 * body with its boundary replaced (browsers choose a new one for every send of the same form). A
 * streamed body is hashed as the handler reads it, and read here only to compare with a record.
 */
import { HttpServerResponse } from "@effect/platform"
import { Context, Duration, Effect, Exit, Fiber, Layer, Option, Stream } from "effect"
import { createHash } from "node:crypto"
import { AppConfig } from "../config/AppConfig.ts"
import { BadRequest, IdempotencyInProgress, IdempotencyKeyReused } from "../domain/ApiError.ts"
import * as IdempotencyKeysLive from "../social/IdempotencyKeys.ts"
import { type IdempotencyRecord as IdempotencyRow, IdempotencyKeys, type KeyHold as Reservation } from "../social/IdempotencyKeys.ts"
import type { EncodedBody } from "./Routes.ts"
import { mediaType, type RequestBodyShape } from "./RequestBody.ts"

export interface IdempotentRequest {
  readonly userId: string
  /** The header as sent (already checked against the contract's pattern). */
  readonly key: string
  readonly method: string
  /** Path and query as sent. */
  readonly target: string
  /** A body the pipeline read up front (JSON endpoints). */
  readonly bytes: Uint8Array | undefined
  /** A body the handler streams (uploads). */
  readonly body: RequestBodyShape | undefined
}

export class Idempotency extends Context.Tag("Idempotency")<Idempotency, {
  /**
   * Runs `create` at most once for the request's user and key. `create` gets the body to read
   * (hashed as it goes); `encode` turns its value into the response that is recorded.
   */
  readonly run: <A, E, R>(
    request: IdempotentRequest,
    create: (body: RequestBodyShape | undefined) => Effect.Effect<A, E, R>,
    encode: (value: A) => EncodedBody | HttpServerResponse.HttpServerResponse
  ) => Effect.Effect<A | HttpServerResponse.HttpServerResponse, E | BadRequest | IdempotencyInProgress | IdempotencyKeyReused, R>
}>() {}

const PLACEHOLDER = Buffer.from("\u0000boundary\u0000")

/** SHA-256 over a prefix and the body, with every occurrence of `marker` (the multipart boundary) replaced. */
const hasher = (prefix: string, marker: Uint8Array | undefined) => {
  const hash = createHash("sha256").update(prefix)
  let carry: Buffer = Buffer.alloc(0)
  let size = 0
  return {
    get size() {
      return size
    },
    update(chunk: Uint8Array) {
      size += chunk.byteLength
      if (marker === undefined || marker.length === 0) return void hash.update(chunk)
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      let start = 0
      for (let i = buf.indexOf(marker, start); i >= 0; i = buf.indexOf(marker, start)) {
        hash.update(buf.subarray(start, i)).update(PLACEHOLDER)
        start = i + marker.length
      }
      // a boundary may straddle two chunks: keep its possible beginning for the next one
      const keep = Math.max(start, buf.length - (marker.length - 1))
      hash.update(buf.subarray(start, keep))
      carry = Buffer.from(buf.subarray(keep))
    },
    digest(): Uint8Array {
      return hash.update(carry).digest()
    }
  }
}

const boundaryOf = (contentType: string) => {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const b = m?.[1] ?? m?.[2]
  return b === undefined ? undefined : Buffer.from(`--${b}`)
}

const hasherFor = (request: IdempotentRequest) => {
  const contentType = request.body?.contentType ?? ""
  const type = mediaType(contentType)
  return hasher(`${request.method}\n${request.target}\n${type}\n`, type.startsWith("multipart/") ? boundaryOf(contentType) : undefined)
}

/** `"abc"` (a structured-field string, as the draft writes it) and `abc` are one key. */
const normalizeKey = (key: string) => (key.length >= 3 && key.startsWith("\"") && key.endsWith("\"") ? key.slice(1, -1) : key)

const sameBytes = (a: Uint8Array | null, b: Uint8Array) => a !== null && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

/** What is recorded of a response: status, content type and body bytes (creates answer JSON). */
const recordOf = (encoded: EncodedBody | HttpServerResponse.HttpServerResponse) => {
  if (!HttpServerResponse.isServerResponse(encoded)) {
    const body = encoded.body
    return {
      status: encoded.status,
      contentType: encoded.contentType ?? null,
      body: body === undefined ? new Uint8Array(0) : typeof body === "string" ? Buffer.from(body) : body
    }
  }
  const body = encoded.body
  return {
    status: encoded.status,
    contentType: encoded.headers["content-type"] ?? ("contentType" in body ? body.contentType : null) ?? null,
    body: body._tag === "Uint8Array" ? body.body : body._tag === "Raw" && typeof body.body === "string" ? Buffer.from(body.body) : new Uint8Array(0)
  }
}

const replay = (row: IdempotencyRow) =>
  HttpServerResponse.uint8Array(row.body ?? new Uint8Array(0), {
    status: row.status ?? 200,
    ...(row.contentType === null ? {} : { contentType: row.contentType }),
    headers: { "idempotent-replayed": "true" }
  })

export const make = Effect.gen(function*() {
  const repo = yield* IdempotencyKeys
  const config = yield* AppConfig
  const scope = yield* Effect.scope
  const leaseSeconds = repo.leaseSeconds
  const maxCompareBytes = config.limits.uploadBytes + 1024 * 1024

  const reused = (row: IdempotencyRow) =>
    new IdempotencyKeyReused({
      message: `this Idempotency-Key was already used for a different request (${row.method} ${row.path.split("?")[0]}); use a new key`
    })

  /** Answers a key someone else holds: 409 while in flight, the record when it is this request. */
  const answerExisting = (request: IdempotentRequest, row: IdempotencyRow) =>
    Effect.gen(function*() {
      if (row.state === "in_flight") {
        return yield* new IdempotencyInProgress({ message: "a request with this Idempotency-Key is still in progress; retry shortly" })
      }
      if (row.method !== request.method || row.path !== request.target) return yield* reused(row)
      const hash = hasherFor(request)
      if (request.bytes !== undefined) hash.update(request.bytes)
      if (request.body !== undefined) {
        yield* Stream.runForEach(request.body.stream, (chunk) => {
          hash.update(chunk)
          return hash.size > maxCompareBytes ? Effect.fail(reused(row)) : Effect.void
        }).pipe(Effect.catchTag("BodyError", (e) => Effect.fail(new BadRequest({ message: `could not read the body: ${e.reason}` }))))
      }
      if (!sameBytes(row.fingerprint, hash.digest())) return yield* reused(row)
      return replay(row)
    })

  const run: Idempotency["Type"]["run"] = (request, create, encode) =>
    Effect.gen(function*() {
      const reservation: Reservation = { userId: request.userId, key: normalizeKey(request.key), owner: crypto.randomUUID() }
      const hash = hasherFor(request)
      if (request.bytes !== undefined) hash.update(request.bytes)
      // known now unless the body is streamed: then once the handler has read it
      const upfront = request.body === undefined ? hash.digest() : undefined
      const existing = yield* repo.reserve(reservation, { method: request.method, path: request.target, fingerprint: upfront ?? null })
      if (Option.isSome(existing)) return yield* answerExisting(request, existing.value)

      const body = request.body === undefined
        ? undefined
        : { ...request.body, stream: Stream.tap(request.body.stream, (chunk) => Effect.sync(() => hash.update(chunk))) }
      const renewing = repo.renew(reservation).pipe(
        Effect.delay(Duration.seconds(leaseSeconds / 3)),
        Effect.repeat({ while: (held) => held }),
        Effect.catchAllCause((cause) => Effect.logWarning("idempotency lease renewal failed", cause))
      )
      const settle = (exit: Exit.Exit<unknown, unknown>, encoded?: ReturnType<typeof recordOf>) =>
        Exit.isSuccess(exit) && encoded !== undefined
          ? repo.complete(reservation, { fingerprint: upfront ?? hash.digest(), ...encoded }).pipe(
            Effect.flatMap((held) => held ? Effect.void : Effect.logWarning("idempotency key lapsed before its response was recorded"))
          )
          : repo.release(reservation)
      const work = Effect.gen(function*() {
        yield* Effect.forkScoped(renewing)
        const exit = yield* Effect.exit(create(body))
        if (Exit.isFailure(exit)) {
          yield* settle(exit)
          return yield* exit
        }
        const encoded = Effect.try(() => recordOf(encode(exit.value)))
        const recorded = yield* Effect.exit(encoded)
        yield* Exit.isSuccess(recorded) ? settle(exit, recorded.value) : settle(recorded)
        return exit.value
      }).pipe(Effect.scoped)
      // the create outlives a client that goes away, so that its result is recorded for the retry
      const fiber = yield* Effect.forkIn(work, scope)
      return yield* Fiber.join(fiber)
    })

  return Idempotency.of({ run })
})

export const layer = Layer.scoped(Idempotency, make).pipe(Layer.provide(IdempotencyKeysLive.layer))
