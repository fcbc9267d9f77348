/**
 * The errors that cross the HTTP wire. In handlers they are ordinary tagged errors
 * (`new NotFound({ message })`); on the wire every one of them has the shape of API.md:
 * `{"error": {"code": "NotFound", "message": "…", "details"?: …}}` with its status.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** Free-form JSON that helps with the error: the fields that failed, the checks that are down. */
const ErrorDetails = Schema.Unknown.annotations({
  identifier: "ErrorDetails",
  description: "Free-form JSON that helps with the error, e.g. the fields that failed to decode."
})

const fields = {
  message: Schema.String,
  details: Schema.optional(ErrorDetails)
}

export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", fields) {}
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", fields) {}
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", fields) {}
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", fields) {}
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", fields) {}
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", fields) {}
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", fields) {}
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", fields) {}
export class LengthRequired extends Schema.TaggedError<LengthRequired>()("LengthRequired", fields) {}
export class UriTooLong extends Schema.TaggedError<UriTooLong>()("UriTooLong", fields) {}
export class HeadersTooLarge extends Schema.TaggedError<HeadersTooLarge>()("HeadersTooLarge", fields) {}
export class Unprocessable extends Schema.TaggedError<Unprocessable>()("Unprocessable", fields) {}
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...fields,
  retryAfterSeconds: Schema.Number
}) {}
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", fields) {}
/** `Idempotency-Key` already used for a different request (another body, path or method). */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", fields) {}
/** The first request with this `Idempotency-Key` is still running. */
export class IdempotencyInProgress extends Schema.TaggedError<IdempotencyInProgress>()("IdempotencyInProgress", fields) {}
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", fields) {}

export type ApiError =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | MethodNotAllowed
  | Conflict
  | PayloadTooLarge
  | UnsupportedMediaType
  | LengthRequired
  | UriTooLong
  | HeadersTooLarge
  | Unprocessable
  | RateLimited
  | ServiceUnavailable
  | IdempotencyKeyReused
  | IdempotencyInProgress
  | InternalError

/** The JSON body every error response carries. */
export const ErrorBody = <Code extends string>(code: Code) =>
  Schema.Struct({
    error: Schema.Struct({
      code: Schema.Literal(code),
      message: Schema.String,
      details: Schema.optional(ErrorDetails)
    })
  })

type Plain = { readonly _tag: string; readonly message: string; readonly details?: unknown }
type Body = { readonly error: { readonly code: string; readonly message: string; readonly details?: unknown } }

/**
 * Wire schema of one error class: decodes the API.md body into the class and encodes the class
 * into it, annotated with its status so OpenAPI, the typed client and both servers agree.
 * `extra` moves class fields beyond `message`/`details` into `details` and back.
 */
const wire = <Self extends Plain, I extends { readonly _tag: string }>(
  cls: Schema.Schema<Self, I>,
  tag: Self["_tag"],
  status: number,
  extra?: {
    readonly encode: (e: Self) => Record<string, unknown>
    readonly decode: (details: unknown) => Record<string, unknown>
  }
) =>
  Schema.transform(ErrorBody(tag), Schema.encodedSchema(cls), {
    strict: false,
    decode: (body: Body) => ({
      _tag: tag,
      message: body.error.message,
      ...(body.error.details === undefined ? {} : { details: body.error.details }),
      ...(extra?.decode(body.error.details) ?? {})
    }),
    encode: (e: any): Body => {
      const details = extra ? { ...(e.details ?? {}), ...extra.encode(e) } : e.details
      return { error: { code: tag, message: e.message, ...(details === undefined ? {} : { details }) } }
    }
  }).pipe(
    Schema.compose(cls),
    // named, so the OpenAPI document lists each error body once, among its components
    (s) => s.annotations(HttpApiSchema.annotations({ status, description: tag, identifier: `${tag}Error` }))
  )

export const BadRequestWire = wire(BadRequest, "BadRequest", 400)
export const UnauthorizedWire = wire(Unauthorized, "Unauthorized", 401)
export const ForbiddenWire = wire(Forbidden, "Forbidden", 403)
export const NotFoundWire = wire(NotFound, "NotFound", 404)
export const MethodNotAllowedWire = wire(MethodNotAllowed, "MethodNotAllowed", 405)
export const ConflictWire = wire(Conflict, "Conflict", 409)
export const PayloadTooLargeWire = wire(PayloadTooLarge, "PayloadTooLarge", 413)
export const UnsupportedMediaTypeWire = wire(UnsupportedMediaType, "UnsupportedMediaType", 415)
export const LengthRequiredWire = wire(LengthRequired, "LengthRequired", 411)
export const UriTooLongWire = wire(UriTooLong, "UriTooLong", 414)
export const HeadersTooLargeWire = wire(HeadersTooLarge, "HeadersTooLarge", 431)
export const UnprocessableWire = wire(Unprocessable, "Unprocessable", 422)
export const RateLimitedWire = wire(RateLimited, "RateLimited", 429, {
  encode: (e) => ({ retryAfterSeconds: e.retryAfterSeconds }),
  decode: (details) => ({ retryAfterSeconds: (details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1 })
})
export const ServiceUnavailableWire = wire(ServiceUnavailable, "ServiceUnavailable", 503)
export const IdempotencyKeyReusedWire = wire(IdempotencyKeyReused, "IdempotencyKeyReused", 422)
export const IdempotencyInProgressWire = wire(IdempotencyInProgress, "IdempotencyInProgress", 409)
export const InternalErrorWire = wire(InternalError, "InternalError", 500)

/** Every wire error, in the order they are added to the API. */
export const allWireErrors = [
  BadRequestWire,
  UnauthorizedWire,
  ForbiddenWire,
  NotFoundWire,
  MethodNotAllowedWire,
  ConflictWire,
  PayloadTooLargeWire,
  UnsupportedMediaTypeWire,
  LengthRequiredWire,
  UriTooLongWire,
  HeadersTooLargeWire,
  UnprocessableWire,
  RateLimitedWire,
  ServiceUnavailableWire,
  IdempotencyKeyReusedWire,
  IdempotencyInProgressWire,
  InternalErrorWire
] as const
