/** Stories: each handler hands its decoded input to the `Stories` use-cases. */
import { Effect } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { UnsupportedMediaType } from "../../domain/ApiError.ts"
import { StoryFromUpload } from "../../domain/Stories.ts"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { Stories } from "../../social/Stories.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { mediaType, readText, RequestBody } from "../RequestBody.ts"
import { decodeJson } from "./posts.ts"
import { withRateLimit } from "./rateLimit.ts"
import { requiredViewer } from "./users.ts"

/** Runs a use-case for the signed-in viewer. */
const as = <A, E, R>(f: (stories: Stories["Type"], userId: string) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(requiredViewer, (viewer) => Effect.flatMap(Stories, (stories) => f(stories, viewer.userId)))

export const storiesHandlers = {
  /** A multipart form streams into the use-case; JSON names a direct upload made before. */
  create: () =>
    as((stories, me) =>
      Effect.gen(function*() {
        const body = yield* RequestBody
        const config = yield* AppConfig
        switch (mediaType(body.contentType)) {
          case "application/json": {
            const input = yield* decodeJson(StoryFromUpload, yield* readText(body, config.limits.jsonBodyBytes), config.limits.jsonDepth)
            return yield* withRateLimit(stories.createFromUpload(me, input))
          }
          case "multipart/form-data":
            return yield* withRateLimit(stories.createFromForm(me, body))
          default:
            return yield* new UnsupportedMediaType({ message: "send multipart/form-data with an `image` part, or JSON with an `uploadId`" })
        }
      })
    ),
  tray: ({ urlParams }) => as((s, me) => s.tray(me, urlParams)),
  archive: ({ urlParams }) => as((s, me) => s.archive(me, urlParams)),
  get: ({ path }) => as((s, me) => s.get(path.id, me)),
  remove: ({ path }) => as((s, me) => s.remove(path.id, me)),
  view: ({ path }) => as((s, me) => s.view(path.id, me)),
  viewers: ({ path, urlParams }) => as((s, me) => s.viewers(path.id, me, urlParams)),
  reply: ({ path, payload }) => withRateLimit(as((s, me) => s.reply(path.id, me, payload))),
  userStories: ({ path }) => as((s, me) => s.ofUser(path.username, me)),
  closeFriends: ({ urlParams }) => as((s, me) => s.listEdge("close_friends", me, urlParams)),
  addCloseFriend: ({ path }) => as((s, me) => s.setEdge("close_friends", me, path.username, true)),
  removeCloseFriend: ({ path }) => as((s, me) => s.setEdge("close_friends", me, path.username, false)),
  hidden: ({ urlParams }) => as((s, me) => s.listEdge("story_hidden", me, urlParams)),
  hide: ({ path }) => as((s, me) => s.setEdge("story_hidden", me, path.username, true)),
  unhide: ({ path }) => as((s, me) => s.setEdge("story_hidden", me, path.username, false)),
  muted: ({ urlParams }) => as((s, me) => s.listEdge("mutes", me, urlParams)),
  mute: ({ path }) => as((s, me) => s.setEdge("mutes", me, path.username, true)),
  unmute: ({ path }) => as((s, me) => s.setEdge("mutes", me, path.username, false))
} satisfies GroupHandlers<"stories", Stories | Auth | AppConfig | RequestBody | RequestContext>
