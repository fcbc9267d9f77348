/** Schemas of the operational and system endpoints. */
import { Schema } from "effect"
import { StorableString } from "./Text.ts"

export const DependencyStatus = Schema.Literal("up", "down")

export class Health extends Schema.Class<Health>("Health")({
  status: Schema.Literal("ok"),
  nodeId: Schema.String,
  uptimeSeconds: Schema.Number
}) {}

export class Readiness extends Schema.Class<Readiness>("Readiness")({
  status: Schema.Literal("ready"),
  checks: Schema.Record({ key: Schema.String, value: DependencyStatus })
}) {}

/** What a node says about itself: only `name` to the public, everything to an operator (OPS_TOKEN). */
export class NodeInfo extends Schema.Class<NodeInfo>("NodeInfo")({
  name: Schema.Literal("aperture"),
  version: Schema.optional(Schema.String),
  nodeId: Schema.optional(Schema.String),
  roles: Schema.optional(Schema.Array(Schema.String)),
  transport: Schema.optional(Schema.Literal("uws", "node")),
  runtime: Schema.optional(Schema.String)
}) {}

/** One row of the synthetic list that probes and benchmarks use to exercise the full JSON path. */
export class SampleItem extends Schema.Class<SampleItem>("SampleItem")({
  id: Schema.String,
  title: Schema.String,
  rank: Schema.Int,
  createdAt: Schema.String,
  tags: Schema.Array(Schema.String)
}) {}

export const SampleQuery = Schema.Struct({
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 50)), { default: () => 20 })
})

export class SampleList extends Schema.Class<SampleList>("SampleList")({
  items: Schema.Array(SampleItem),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean
}) {}

/** Payload of the echo probe: a small JSON body decoded strictly, returned as sent. */
export class EchoPayload extends Schema.Class<EchoPayload>("EchoPayload")({
  message: StorableString.pipe(Schema.minLength(1), Schema.maxLength(1000)),
  count: Schema.optional(Schema.Int.pipe(Schema.between(0, 1_000_000)))
}) {}
