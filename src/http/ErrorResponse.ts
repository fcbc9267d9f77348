/**
 * The one mapping from failures to responses. Tagged API errors encode through their wire schema
 * (status from its annotation); `Retry-After` accompanies a 429; anything else is a defect: logged
 * with the request id and answered with a 500 that reveals nothing — unless it says a dependency
 * is unreachable (DependencyFailure), which is a 503.
 */
import { HttpApiSchema } from "@effect/platform"
import { Cause, Effect, Schema } from "effect"
import { allWireErrors, InternalError, InternalErrorWire, RateLimited, ServiceUnavailable } from "../domain/ApiError.ts"
import { isDependencyFailure } from "./DependencyFailure.ts"

export interface ErrorResponse {
  readonly status: number
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

const members = allWireErrors.map((wire) => ({
  status: HttpApiSchema.getStatusErrorAST(wire.ast),
  is: Schema.is(wire as Schema.Schema<unknown, unknown>),
  encode: Schema.encodeSync(wire as Schema.Schema<unknown, unknown>)
}))

const internal = () => ({
  status: 500,
  body: JSON.stringify(Schema.encodeSync(InternalErrorWire)(new InternalError({ message: "internal error" }))),
  headers: {}
})

/** Encodes a known API error; undefined when `error` is not one. */
export const encodeApiError = (error: unknown): ErrorResponse | undefined => {
  for (const m of members) {
    if (m.is(error)) {
      const headers: Record<string, string> = error instanceof RateLimited
        ? { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) }
        : {}
      return { status: m.status, body: JSON.stringify(m.encode(error)), headers }
    }
  }
  return undefined
}

/** Maps the cause of a failed request; logs defects and unknown failures. */
export const fromCause = (cause: Cause.Cause<unknown>): Effect.Effect<ErrorResponse> => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") {
    const known = encodeApiError(failure.value)
    if (known) return Effect.succeed(known)
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.succeed({ status: 503, body: "", headers: {} })
  // a dependency that is down is not the client's fault nor a bug: say so with a 503; a database
  // that refuses a statement is a bug (500), see DependencyFailure
  const unexpected = failure._tag === "Some" ? failure : Cause.dieOption(cause)
  if (unexpected._tag === "Some" && isDependencyFailure(unexpected.value)) {
    return Effect.logWarning("request failed: dependency unavailable", cause).pipe(
      Effect.as(encodeApiError(new ServiceUnavailable({ message: "a service this request needs is unavailable; try again shortly" }))!)
    )
  }
  return Effect.logError("request failed unexpectedly", cause).pipe(Effect.as(internal()))
}
