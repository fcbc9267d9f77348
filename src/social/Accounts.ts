/**
 * Sign-up, log-in, log-out. Log-in answers the same 401 for an unknown account and a wrong
 * password, and spends the same scrypt time on both (a dummy verify for the unknown one).
 * Failed log-ins are limited per account+address and per address — the latter also in process
 * while Redis is away — and the checks run before any password is verified.
 */
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import type { Me, Signup } from "../domain/Accounts.ts"
import { Conflict, RateLimited, Unauthorized, Unprocessable } from "../domain/ApiError.ts"
import { UsersRepo } from "../db/Users.ts"
import { Live } from "../streams/Live.ts"
import { isCommonPassword } from "./CommonPasswords.ts"
import { type Limited, limited, Limits, tighter } from "./Limits.ts"
import { PasswordHasher } from "./PasswordHasher.ts"
import { sessionKeyOf, Sessions } from "./Sessions.ts"
import { meOf } from "./Views.ts"

export interface ClientMeta {
  readonly ip: string
  readonly userAgent: string
}

const RESERVED = new Set(["me", "admin", "api", "root", "support", "aperture", "settings", "explore", "login", "signup"])

export interface SignedIn {
  readonly user: Me
  readonly token: string
}

export class Accounts extends Context.Tag("Accounts")<Accounts, {
  readonly signup: (input: Signup, meta: ClientMeta) => Effect.Effect<Limited<SignedIn>, Conflict | Unprocessable | RateLimited>
  /** The decision returned is the tighter of the two failure limits, as they stood before this attempt. */
  readonly login: (login: string, password: string, meta: ClientMeta) => Effect.Effect<Limited<SignedIn>, Unauthorized | RateLimited>
  /** Ends the session; its sockets, on every node, close now rather than at their next heartbeat. */
  readonly logout: (session: { readonly userId: string; readonly tokenHash: Uint8Array }) => Effect.Effect<void>
  readonly me: (userId: string) => Effect.Effect<Me, Unauthorized>
  /** Ends every other session of the account (their sockets close now); how many it ended. */
  readonly logoutOthers: (session: { readonly userId: string; readonly tokenHash: Uint8Array }) => Effect.Effect<number>
  /**
   * Changes the password after checking the current one (a wrong one counts as a failed log-in,
   * limited the same way) and ends every other session; how many it ended.
   */
  readonly changePassword: (
    session: { readonly userId: string; readonly tokenHash: Uint8Array },
    current: string,
    next: string
  ) => Effect.Effect<number, Unauthorized | Unprocessable | RateLimited>
}>() {}

export const make = Effect.gen(function*() {
  const { adminUsernames } = yield* AppConfig
  const users = yield* UsersRepo
  const sessions = yield* Sessions
  const hasher = yield* PasswordHasher
  const limits = yield* Limits
  const live = yield* Live

  const signup = Effect.fn("Accounts.signup")(function*(input: Signup, meta: ClientMeta) {
    const rateLimit = yield* limits.enforce(limits.rules.signup, meta.ip)
    if (RESERVED.has(input.username)) {
      return yield* new Conflict({ message: "that username is taken", details: { field: "username" } })
    }
    if (isCommonPassword(input.password) || input.password.toLowerCase().includes(input.username)) {
      return yield* new Unprocessable({
        message: "that password is too easy to guess; choose one that is not a common password or your username",
        details: { field: "password" }
      })
    }
    const passwordHash = yield* hasher.hash(input.password)
    const user = yield* users.insert({
      username: input.username,
      email: input.email,
      passwordHash,
      displayName: input.displayName ?? ""
    }).pipe(
      Effect.catchTag("UniqueViolation", (e) =>
        new Conflict({ message: `that ${e.field} is taken`, details: { field: e.field } }))
    )
    const token = yield* sessions.create(user.id, meta)
    return limited<SignedIn>(rateLimit)({ user: meOf(user, adminUsernames), token })
  })

  const login = Effect.fn("Accounts.login")(function*(login: string, password: string, meta: ClientMeta) {
    const name = login.trim().toLowerCase()
    const accountKey = `${name}|${meta.ip}`
    const { loginFailuresAccount, loginFailuresIp } = limits.rules
    const byIp = yield* limits.check(loginFailuresIp, meta.ip, { fallback: "local" })
    const byAccount = yield* limits.check(loginFailuresAccount, accountKey, { fallback: "local" })
    const user = yield* users.byLogin(name)
    const ok = Option.isSome(user)
      ? yield* hasher.verify(password, user.value.passwordHash)
      : yield* hasher.verifyDummy(password)
    if (!ok || Option.isNone(user)) {
      yield* limits.limiter.consume(loginFailuresIp, meta.ip, { fallback: "local" })
      yield* limits.limiter.consume(loginFailuresAccount, accountKey, { fallback: "local" })
      return yield* new Unauthorized({ message: "that login and password do not match an account" })
    }
    yield* limits.limiter.reset(loginFailuresAccount, accountKey)
    if (hasher.needsRehash(user.value.passwordHash)) {
      yield* users.setPasswordHash(user.value.id, yield* hasher.hash(password))
    }
    const token = yield* sessions.create(user.value.id, meta)
    return limited<SignedIn>(tighter(byIp, byAccount))({ user: meOf(user.value, adminUsernames), token })
  })

  const logout = Effect.fn("Accounts.logout")(function*(session: { readonly userId: string; readonly tokenHash: Uint8Array }) {
    yield* sessions.revoke(session.tokenHash)
    yield* live.signal(session.userId, { kind: "session_ended", sessionKey: sessionKeyOf(session.tokenHash) })
  })

  const me = (userId: string) =>
    users.byId(userId).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new Unauthorized({ message: "this session's account no longer exists" })),
        onSome: (u) => Effect.succeed(meOf(u, adminUsernames))
      }))
    )

  const logoutOthers = Effect.fn("Accounts.logoutOthers")(function*(session: { readonly userId: string; readonly tokenHash: Uint8Array }) {
    const ended = yield* sessions.revokeOthers(session.userId, session.tokenHash)
    yield* Effect.forEach(ended, (tokenHash) => live.signal(session.userId, { kind: "session_ended", sessionKey: sessionKeyOf(tokenHash) }), { discard: true })
    return ended.length
  })

  const changePassword = Effect.fn("Accounts.changePassword")(function*(
    session: { readonly userId: string; readonly tokenHash: Uint8Array },
    current: string,
    next: string
  ) {
    const user = yield* users.byId(session.userId)
    if (Option.isNone(user)) return yield* new Unauthorized({ message: "this session's account no longer exists" })
    const { loginFailuresAccount } = limits.rules
    const accountKey = `password|${user.value.id}`
    yield* limits.check(loginFailuresAccount, accountKey, { fallback: "local" })
    if (!(yield* hasher.verify(current, user.value.passwordHash))) {
      yield* limits.limiter.consume(loginFailuresAccount, accountKey, { fallback: "local" })
      return yield* new Unprocessable({ message: "your current password is not right", details: { field: "currentPassword" } })
    }
    if (isCommonPassword(next) || next.toLowerCase().includes(user.value.username)) {
      return yield* new Unprocessable({
        message: "that password is too easy to guess; choose one that is not a common password or your username",
        details: { field: "newPassword" }
      })
    }
    yield* users.setPasswordHash(user.value.id, yield* hasher.hash(next))
    return yield* logoutOthers(session)
  })

  return Accounts.of({ signup, login, logout, me, logoutOthers, changePassword })
})

export const layer = Layer.effect(Accounts, make)
