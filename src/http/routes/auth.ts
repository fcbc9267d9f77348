import { Effect, Option } from "effect"
import { AuthResult, SessionsEnded, SessionState, WsTicket } from "../../domain/Accounts.ts"
import { addResponseHeader, RequestContext } from "../../observability/RequestContext.ts"
import { Accounts, type SignedIn } from "../../social/Accounts.ts"
import type { Limited } from "../../social/Limits.ts"
import { sessionKeyOf, Sessions } from "../../social/Sessions.ts"
import { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { withRateLimit } from "./rateLimit.ts"

const clientMeta = Effect.gen(function*() {
  const auth = yield* Auth
  const request = yield* RequestContext
  return { ip: yield* auth.clientIp, userAgent: request.headers["user-agent"] ?? "" }
})

/** Answers with the session both ways: the cookie for the web app, the token for widgets. */
const signedIn = <E, R>(useCase: Effect.Effect<Limited<SignedIn>, E, R>) =>
  Effect.gen(function*() {
    const result = yield* withRateLimit(useCase)
    const auth = yield* Auth
    for (const cookie of yield* auth.sessionCookie(result.token)) yield* addResponseHeader("set-cookie", cookie)
    yield* addResponseHeader("cache-control", "no-store")
    return new AuthResult(result)
  })

export const authHandlers = {
  signup: ({ payload }) =>
    Effect.gen(function*() {
      const accounts = yield* Accounts
      return yield* signedIn(accounts.signup(payload, yield* clientMeta))
    }),
  login: ({ payload }) =>
    Effect.gen(function*() {
      const accounts = yield* Accounts
      return yield* signedIn(accounts.login(payload.login, payload.password, yield* clientMeta))
    }),
  logout: () =>
    Effect.gen(function*() {
      const auth = yield* Auth
      const viewer = yield* auth.optional
      if (Option.isSome(viewer)) yield* (yield* Accounts).logout(viewer.value)
      for (const cookie of yield* auth.clearedCookie) yield* addResponseHeader("set-cookie", cookie)
    }),
  me: () =>
    Effect.gen(function*() {
      const viewer = yield* (yield* Auth).required
      return yield* (yield* Accounts).me(viewer.userId)
    }),
  logoutOthers: () =>
    Effect.gen(function*() {
      const viewer = yield* (yield* Auth).required
      return new SessionsEnded({ endedSessions: yield* (yield* Accounts).logoutOthers(viewer) })
    }),
  changePassword: ({ payload }) =>
    Effect.gen(function*() {
      const viewer = yield* (yield* Auth).required
      const ended = yield* (yield* Accounts).changePassword(viewer, payload.currentPassword, payload.newPassword)
      return new SessionsEnded({ endedSessions: ended })
    }),
  session: () =>
    Effect.gen(function*() {
      // a cookie a cross-site page may not use signs nobody in
      const viewer = yield* (yield* Auth).optional.pipe(Effect.catchTag("Forbidden", () => Effect.succeed(Option.none())))
      yield* addResponseHeader("cache-control", "no-store")
      if (Option.isNone(viewer)) return new SessionState({ user: null })
      const me = yield* (yield* Accounts).me(viewer.value.userId).pipe(Effect.option)
      return new SessionState({ user: Option.getOrNull(me) })
    }),
  wsTicket: () =>
    Effect.gen(function*() {
      const viewer = yield* (yield* Auth).required
      const { ticket, expiresAt } = yield* (yield* Sessions).issueTicket({ userId: viewer.userId, sessionKey: sessionKeyOf(viewer.tokenHash) })
      yield* addResponseHeader("cache-control", "no-store")
      return new WsTicket({ ticket, expiresAt: expiresAt.toISOString() })
    })
} satisfies GroupHandlers<"auth", Accounts | Sessions | Auth | RequestContext>
