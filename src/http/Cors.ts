/**
 * CORS for widget origins on the allowlist (CORS_ORIGINS). Other origins get no CORS headers, so
 * browsers keep their responses from the calling page; cookie-authenticated writes from them are
 * also refused by the CSRF check in Auth.
 */
const EXPOSED = "retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, x-request-id"
const ALLOWED_HEADERS = "authorization, content-type, idempotency-key, x-request-id"
const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"

export const isAllowedOrigin = (origin: string | undefined, allowlist: ReadonlyArray<string>) =>
  origin !== undefined && allowlist.includes(origin)

/** Headers for an actual (non-preflight) response. */
export const corsHeaders = (origin: string | undefined, allowlist: ReadonlyArray<string>): Record<string, string> =>
  isAllowedOrigin(origin, allowlist)
    ? {
      "access-control-allow-origin": origin!,
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": EXPOSED,
      vary: "Origin"
    }
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
