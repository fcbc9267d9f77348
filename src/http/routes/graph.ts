import { Effect } from "effect"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { Social } from "../../social/Social.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { withRateLimit } from "./rateLimit.ts"
import { requiredViewer, viewerId } from "./users.ts"

export const graphHandlers = {
  follow: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* withRateLimit((yield* Social).follow(viewer.userId, path.username))
    }),
  unfollow: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* withRateLimit((yield* Social).unfollow(viewer.userId, path.username))
    }),
  followers: ({ path, urlParams }) =>
    Effect.gen(function*() {
      return yield* (yield* Social).followers(path.username, yield* viewerId, urlParams)
    }),
  following: ({ path, urlParams }) =>
    Effect.gen(function*() {
      return yield* (yield* Social).following(path.username, yield* viewerId, urlParams)
    }),
  requests: ({ urlParams }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      return yield* (yield* Social).requests(viewer.userId, urlParams)
    }),
  approve: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      yield* withRateLimit((yield* Social).approve(viewer.userId, path.id))
    }),
  deny: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      yield* withRateLimit((yield* Social).deny(viewer.userId, path.id))
    }),
  block: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      yield* withRateLimit((yield* Social).block(viewer.userId, path.username))
    }),
  unblock: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      yield* withRateLimit((yield* Social).unblock(viewer.userId, path.username))
    })
} satisfies GroupHandlers<"graph", Social | Auth | RequestContext>
