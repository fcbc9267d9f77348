/**
 * Domain events as they travel on `ev.<type>`: an envelope with the event id (also the
 * `Nats-Msg-Id`, so a replayed publish is dropped by JetStream), its type and its payload.
 */
import { Schema } from "effect"

export class EventEnvelope extends Schema.Class<EventEnvelope>("EventEnvelope")({
  id: Schema.UUID,
  type: Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)),
  occurredAt: Schema.String,
  payload: Schema.Unknown
}) {}

/** Subject of an event type: `post.published` → `ev.post.published`. */
export const eventSubject = (type: string) => `ev.${type}`
