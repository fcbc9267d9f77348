/** The benchmark's actor kinds, shared by the sender (run.ts) and the hosts (host.ts). */
import { Schema } from "effect"
import { kind } from "../../src/actors/runtime/Actor.ts"

const Command = Schema.Struct({
  id: Schema.String,
  /** Padding, so a command has the size of a small real one (BENCH_PAYLOAD_BYTES). */
  pad: Schema.optional(Schema.String),
  /** Records when it was handled (Redis `bench:probe:<id>`): the handover measurement. */
  probe: Schema.optional(Schema.Boolean)
})

/** receive does nothing (no I/O): the runtime's own cost per command. */
export const BenchNoop = kind({ name: "bnoop", command: Command })

/** receive does one fenced Redis write (FENCE_LUA + INCR, one EVALSHA round trip). */
export const BenchWrite = kind({ name: "bwrite", command: Command })
