import { Effect } from "effect"
import { DeadLetters } from "../../social/DeadLetters.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { requiredViewer } from "./users.ts"

export const adminHandlers = {
  deadLetters: ({ urlParams }) =>
    Effect.flatMap(requiredViewer, (v) => Effect.flatMap(DeadLetters, (d) => d.page(v.userId, urlParams))),
  replayDeadLetter: ({ path }) =>
    Effect.flatMap(requiredViewer, (v) => Effect.flatMap(DeadLetters, (d) => d.replay(v.userId, path.id)))
} satisfies GroupHandlers<"admin", DeadLetters | Auth | RequestContext>
