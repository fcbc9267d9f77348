/**
 * The WebSocket protocol. Every frame is `{type, id, ts, payload}`: `id` is the inbox stream
 * sequence for events a client can resume from, and null for control frames (hello, pong, error).
 */
import { Schema } from "effect"

export const ServerFrame = Schema.Struct({
  type: Schema.String,
  id: Schema.NullOr(Schema.Number),
  ts: Schema.String,
  payload: Schema.Unknown
})
export type ServerFrame = typeof ServerFrame.Type

export const Hello = Schema.Struct({ userId: Schema.String, inboxSeq: Schema.Number, connectionId: Schema.String })

export const ClientPing = Schema.Struct({ type: Schema.Literal("ping"), payload: Schema.optional(Schema.Unknown) })
export const ClientResume = Schema.Struct({
  type: Schema.Literal("resume"),
  payload: Schema.Struct({ sinceSeq: Schema.NonNegativeInt })
})
export const ClientTyping = Schema.Struct({
  type: Schema.Literal("typing"),
  payload: Schema.Struct({ conversationId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)) })
})
export const ClientFrame = Schema.Union(ClientPing, ClientResume, ClientTyping)
export type ClientFrame = typeof ClientFrame.Type

/** Close codes the gateway uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  tryAgainLater: 1013
} as const
