import { Effect } from "effect"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { Social } from "../../social/Social.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { viewerId } from "./users.ts"

export const searchHandlers = {
  users: ({ urlParams }) =>
    Effect.gen(function*() {
      return yield* (yield* Social).search(urlParams.q, yield* viewerId, urlParams.limit)
    })
} satisfies GroupHandlers<"search", Social | Auth | RequestContext>
