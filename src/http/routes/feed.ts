import { HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { DegradedHeader } from "../../domain/Engagement.ts"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { Engagement } from "../../social/Engagement.ts"
import { Feed } from "../../social/Feed.ts"
import { Notifications } from "../../social/Notifications.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { withRateLimit } from "./rateLimit.ts"
import { requiredViewer, viewerId } from "./users.ts"

export const feedHandlers = {
  home: ({ urlParams }) =>
    Effect.gen(function*() {
      const viewer = yield* requiredViewer
      // the feed comes spliced as JSON text from cached cards: sent as it is, not re-encoded
      const page = yield* (yield* Feed).page(viewer.userId, urlParams)
      const response = HttpServerResponse.text(page.json, { contentType: "application/json" })
      return page.degraded ? HttpServerResponse.setHeader(response, DegradedHeader, "redis") : response
    })
} satisfies GroupHandlers<"feed", Feed | Auth | RequestContext>

export const engagementHandlers = {
  like: ({ path }) => withRateLimit(Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Engagement, (e) => e.like(path.id, v.userId)))),
  unlike: ({ path }) => withRateLimit(Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Engagement, (e) => e.unlike(path.id, v.userId)))),
  save: ({ path }) => withRateLimit(Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Engagement, (e) => e.save(path.id, v.userId)))),
  unsave: ({ path }) => withRateLimit(Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Engagement, (e) => e.unsave(path.id, v.userId)))),
  comments: ({ path, urlParams }) =>
    Effect.gen(function*() {
      return yield* (yield* Engagement).comments(path.id, yield* viewerId, urlParams)
    }),
  comment: ({ path, payload }) =>
    withRateLimit(Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Engagement, (e) => e.comment(path.id, v.userId, payload.text)))),
  deleteComment: ({ path }) => withRateLimit(Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Engagement, (e) => e.deleteComment(path.id, v.userId))))
} satisfies GroupHandlers<"engagement", Engagement | Auth | RequestContext>

export const notificationsHandlers = {
  list: ({ urlParams }) => Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Notifications, (n) => n.page(v.userId, urlParams))),
  read: ({ payload }) => Effect.flatMap(requiredViewer, (v) => Effect.flatMap(Notifications, (n) => n.markRead(v.userId, payload.ids)))
} satisfies GroupHandlers<"notifications", Notifications | Auth | RequestContext>
