/**
 * The chaos suite's one actor kind, in a module of its own: the test process (which sends) must
 * not import `host.ts`, whose import starts a host.
 */
import { Schema } from "effect"
import { kind } from "../../src/actors/runtime/Actor.ts"

/** `seq` grows per key in send order; `slowMs` makes the handler sleep before it writes. */
export const Chaos = kind({
  name: "chaos",
  command: Schema.Struct({ seq: Schema.Number, slowMs: Schema.optional(Schema.Number) })
})
