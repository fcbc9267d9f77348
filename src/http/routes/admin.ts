import { Effect } from "effect"
import { Inspector } from "../../actors/runtime/Inspector.ts"
import { NotFound } from "../../domain/ApiError.ts"
import { DeadLetters } from "../../social/DeadLetters.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { requiredViewer } from "./users.ts"

export const adminHandlers = {
  deadLetters: ({ urlParams }) =>
    Effect.flatMap(requiredViewer, (v) => Effect.flatMap(DeadLetters, (d) => d.page(v.userId, urlParams))),
  replayDeadLetter: ({ path }) =>
    Effect.flatMap(requiredViewer, (v) => Effect.flatMap(DeadLetters, (d) => d.replay(v.userId, path.id))),
  actors: ({ urlParams }) =>
    Effect.gen(function*() {
      const v = yield* requiredViewer
      const inspector = yield* Inspector
      yield* inspector.requireAdmin(v.userId)
      return yield* inspector.overview(urlParams.limit)
    }),
  actor: ({ path }) =>
    Effect.gen(function*() {
      const v = yield* requiredViewer
      const inspector = yield* Inspector
      yield* inspector.requireAdmin(v.userId)
      if (!inspector.kinds.includes(path.kind)) return yield* new NotFound({ message: `no actor kind ${path.kind} (kinds: ${inspector.kinds.join(", ")})` })
      return yield* inspector.actor(path.kind, path.key)
    })
} satisfies GroupHandlers<"admin", DeadLetters | Inspector | Auth | RequestContext>
