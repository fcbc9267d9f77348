import { Context } from "effect"

/** Which transport is serving this process: `uws` natively, or `node` (the standard transport). */
export class CurrentTransport extends Context.Tag("CurrentTransport")<CurrentTransport, "uws" | "node">() {}
