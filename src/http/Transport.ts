import { Context } from "effect"

/** Which transport is serving this process: `uws` natively, or `node` (the standard transport). */
export class CurrentTransport extends Context.Tag("CurrentTransport")<CurrentTransport, "uws" | "node">() {}

/** The port the server listens on (useful when PORT=0 picks one). */
export class HttpListening extends Context.Tag("HttpListening")<HttpListening, { readonly port: number }>() {}
