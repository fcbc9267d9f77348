/**
 * CORS. Origins on the allowlist (CORS_ORIGINS) get full grants: credentials, every method, the
 * preflight. Any other origin may make anonymous reads — a GET or HEAD carrying neither a cookie
 * nor an Authorization header — and read their answer (`Access-Control-Allow-Origin: *`, never with
 * credentials): such an answer is what anyone on the internet gets anyway, so public widgets work
 * on any site with no configuration. Everything else from other origins gets no CORS headers, so
 * browsers keep the response from the calling page, and cookie-authenticated writes are also
 * refused by the CSRF check in Auth.
 *
 * An embed token (`Authorization: Bearer ape_…`, no cookie) works from any origin without
 * configuration, like an anonymous read: its scope is what limits it, and it can be restricted to
 * origins of its own (checked in Auth). So a preflight from any origin that asks to send
 * `authorization` is granted without credentials, and the answer to an embed-token request carries
 * `Access-Control-Allow-Origin: *`; a session token's answer stays unreadable off the allowlist.
 */
const EXPOSED = "retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, x-request-id"
const ALLOWED_HEADERS = "authorization, content-type, idempotency-key, x-request-id"
const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"

export const isAllowedOrigin = (origin: string | undefined, allowlist: ReadonlyArray<string>) =>
  origin !== undefined && allowlist.includes(origin)

/** What of the request decides an anonymous read: its method and whether it carries credentials. */
export interface CorsRequest {
  readonly method: string
  readonly credentialed: boolean
  /** Carries an embed token (`Bearer ape_…`) and no cookie. */
  readonly embedToken?: boolean
}

/** Whether a request carries an embed token and no cookie. */
export const carriesEmbedToken = (headers: { readonly authorization?: string | undefined; readonly cookie?: string | undefined }) =>
  headers.cookie === undefined && headers.authorization !== undefined && /^Bearer\s+ape_/i.test(headers.authorization)

/** Headers for an actual (non-preflight) response. */
export const corsHeaders = (origin: string | undefined, allowlist: ReadonlyArray<string>, request?: CorsRequest): Record<string, string> =>
  isAllowedOrigin(origin, allowlist)
    ? {
      "access-control-allow-origin": origin!,
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": EXPOSED,
      vary: "Origin"
    }
    : origin !== undefined && request !== undefined &&
        (request.embedToken === true || !request.credentialed && (request.method === "GET" || request.method === "HEAD"))
    ? { "access-control-allow-origin": "*", "access-control-expose-headers": EXPOSED, vary: "Origin" }
    : { vary: "Origin" }

/**
 * The answer to an OPTIONS preflight: 204 with the grants for allowed origins; for any other origin
 * that asks to send `authorization` (an embed token), 204 without credentials; 403 otherwise.
 */
export const preflight = (origin: string | undefined, allowlist: ReadonlyArray<string>, requestHeaders?: string) =>
  origin !== undefined && !isAllowedOrigin(origin, allowlist) && requestHeaders !== undefined &&
    requestHeaders.toLowerCase().split(",").some((h) => h.trim() === "authorization")
    ? {
      status: 204,
      headers: {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-expose-headers": EXPOSED,
        "access-control-max-age": "600",
        vary: "Origin"
      } as Record<string, string>
    }
    : isAllowedOrigin(origin, allowlist)
    ? {
      status: 204,
      headers: {
        ...corsHeaders(origin, allowlist),
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": "600"
      } as Record<string, string>
    }
    : { status: 403, headers: { vary: "Origin" } as Record<string, string> }
