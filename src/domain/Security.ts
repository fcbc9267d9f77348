/**
 * Authentication, declared in the contract: endpoints that need a session carry the
 * `Authenticated` middleware, so the OpenAPI document lists their security requirement and the
 * request pipeline refuses them with 401 before any handler runs — no handler can forget it.
 * A session is sent as `Authorization: Bearer <token>` or as the `ap_session` cookie.
 */
import { HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { UnauthorizedWire } from "./ApiError.ts"

export const SessionCookieName = "ap_session"

export class Authenticated extends HttpApiMiddleware.Tag<Authenticated>()("Authenticated", {
  failure: UnauthorizedWire,
  security: {
    bearer: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The token returned by POST /api/v1/auth/signup or /auth/login.")
    ),
    cookie: HttpApiSecurity.apiKey({ key: SessionCookieName, in: "cookie" }).pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The HttpOnly session cookie set by sign-up and log-in (the web app).")
    )
  }
}) {}

/**
 * The operations token (`OPS_TOKEN`) that opens `/metrics` on the main listener. Declared for the
 * OpenAPI document only: the handler checks it, because a development server without a token
 * leaves the endpoint open and a production one without a token does not serve it at all.
 */
export class OpsToken extends HttpApiMiddleware.Tag<OpsToken>()("OpsToken", {
  failure: UnauthorizedWire,
  security: {
    opsToken: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The operations token the server was started with (OPS_TOKEN).")
    )
  }
}) {}
