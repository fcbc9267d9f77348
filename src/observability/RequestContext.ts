/**
 * What a handler may know about the request beyond its decoded inputs, provided by both transports
 * the same way (handlers never see a transport's own request object).
 */
import { Context, Effect } from "effect"

export interface RequestContextShape {
  readonly requestId: string
  readonly method: string
  readonly path: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly remoteAddress: string
  /** Headers a handler adds to its response (Set-Cookie, rate-limit headers); the transport writes them. */
  readonly responseHeaders: Array<readonly [string, string]>
}

export class RequestContext extends Context.Tag("RequestContext")<RequestContext, RequestContextShape>() {}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/

/** Keeps a caller's `X-Request-Id` when it is sane, otherwise makes one. */
export const requestIdFrom = (header: string | undefined): string =>
  header !== undefined && REQUEST_ID.test(header) ? header : crypto.randomUUID()

/** Adds a header to the current response (no-op outside a request). */
export const addResponseHeader = (name: string, value: string) =>
  Effect.serviceOption(RequestContext).pipe(
    Effect.map((ctx) => {
      if (ctx._tag === "Some") ctx.value.responseHeaders.push([name, value])
    })
  )
