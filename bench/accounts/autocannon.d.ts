/**
 * The parts of autocannon's programmatic API that bench/accounts uses beyond those declared in
 * bench/http/autocannon.d.ts; interfaces of the same ambient module merge with that declaration.
 */
declare module "autocannon" {
  /** The request autocannon is about to build; `setupRequest` returns it changed. */
  export interface RequestParams {
    method: string
    path: string
    headers: Record<string, string>
    body?: string | Buffer
  }

  export interface RequestSpec {
    readonly method?: string
    readonly path?: string
    readonly headers?: Readonly<Record<string, string>>
    readonly body?: string
    /** Called before every request of this spec; autocannon rebuilds the request from what it returns. */
    readonly setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams
  }

  export interface Options {
    readonly method?: string
    readonly headers?: Readonly<Record<string, string>>
    readonly body?: string
    /** Each connection loops over these in order. */
    readonly requests?: ReadonlyArray<RequestSpec>
  }

  export interface Result {
    /** Responses per status code, e.g. { "200": { count: 12 } }. */
    readonly statusCodeStats?: Readonly<Record<string, { readonly count: number }>>
  }
}
