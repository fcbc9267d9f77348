import { Effect, Option } from "effect"
import { Social } from "../../social/Social.ts"
import { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { withRateLimit } from "./rateLimit.ts"

export const viewerId = Effect.map(
  Effect.flatMap(Auth, (auth) => auth.optional),
  Option.match({ onNone: () => null, onSome: (v) => v.userId })
)

export const requiredViewer = Effect.flatMap(Auth, (auth) => auth.required)

export const usersHandlers = {
  profile: ({ path }) =>
    Effect.gen(function*() {
      return yield* (yield* Social).profile(path.username, yield* viewerId)
    }),
  update: ({ payload }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* withRateLimit((yield* Social).updateProfile(viewer.userId, payload))
    }),
  blocks: ({ urlParams }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* (yield* Social).blocks(viewer.userId, urlParams)
    })
} satisfies GroupHandlers<"users", Social | Auth | RequestContext>
