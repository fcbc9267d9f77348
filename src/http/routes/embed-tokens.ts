import { Effect } from "effect"
import { Forbidden } from "../../domain/ApiError.ts"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { EmbedTokens } from "../../social/EmbedTokens.ts"
import { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { addResponseHeader } from "../../observability/RequestContext.ts"
import { withRateLimit } from "./rateLimit.ts"

/** The signed-in person, by session: embed tokens never manage embed tokens (the scope check refuses them first; this is the second lock). */
const sessionViewer = Effect.gen(function*() {
  const viewer = yield* (yield* Auth).required
  if (viewer.via === "embed") return yield* new Forbidden({ message: "embed tokens are managed in settings, signed in; an embed token cannot create, list or revoke them" })
  return viewer
})

export const embedTokensHandlers = {
  create: ({ payload }) =>
    Effect.gen(function*() {
      const viewer = yield* sessionViewer
      const created = yield* withRateLimit((yield* EmbedTokens).create(viewer.userId, payload))
      yield* addResponseHeader("cache-control", "no-store")
      return created
    }),
  list: () =>
    Effect.gen(function*() {
      const viewer = yield* sessionViewer
      return yield* (yield* EmbedTokens).list(viewer.userId)
    }),
  revoke: ({ path }) =>
    Effect.gen(function*() {
      const viewer = yield* sessionViewer
      yield* (yield* EmbedTokens).revoke(viewer.userId, path.id)
    })
} satisfies GroupHandlers<"embedTokens", EmbedTokens | Auth | RequestContext>
