/**
 * CORS. Origins on the allowlist (CORS_ORIGINS) get full grants: credentials, every method, the
 * preflight. Any other origin may make anonymous reads — a GET or HEAD carrying neither a cookie
 * nor an Authorization header — and read their answer (`Access-Control-Allow-Origin: *`, never with
 * credentials): such an answer is what anyone on the internet gets anyway, so public widgets work
 * on any site with no configuration. Everything else from other origins gets no CORS headers, so
 * browsers keep the response from the calling page, and cookie-authenticated writes are also
 * refused by the CSRF check in Auth.
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
}

/** Headers for an actual (non-preflight) response. */
export const corsHeaders = (origin: string | undefined, allowlist: ReadonlyArray<string>, request?: CorsRequest): Record<string, string> =>
  isAllowedOrigin(origin, allowlist)
    ? {
      "access-control-allow-origin": origin!,
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": EXPOSED,
      vary: "Origin"
    }
    : origin !== undefined && request !== undefined && !request.credentialed && (request.method === "GET" || request.method === "HEAD")
    ? { "access-control-allow-origin": "*", "access-control-expose-headers": EXPOSED, vary: "Origin" }
    : { vary: "Origin" }

/** The answer to an OPTIONS preflight: 204 with the grants for allowed origins, 403 otherwise. */
export const preflight = (origin: string | undefined, allowlist: ReadonlyArray<string>) =>
  isAllowedOrigin(origin, allowlist)
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
