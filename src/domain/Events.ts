/**
 * Domain events as they travel on `ev.<type>`: an envelope with the event id (also the
 * `Nats-Msg-Id`, so a replayed publish is dropped by JetStream), its type, the version of that
 * type's payload and the payload. The payload of each type is defined once, in DomainEvents.ts.
 *
 * `version` is an envelope field, not a payload field: a consumer picks the payload schema by
 * `(type, version)` before reading the payload. Envelopes written before versions existed have
 * none and decode as version 1.
 */
import { Schema } from "effect"

export class EventEnvelope extends Schema.Class<EventEnvelope>("EventEnvelope")({
  id: Schema.UUID,
  type: Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)),
  version: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  occurredAt: Schema.String,
  payload: Schema.Unknown
}) {}

/** Subject of an event type: `post.published` → `ev.post.published`. */
export const eventSubject = (type: string) => `ev.${type}`
