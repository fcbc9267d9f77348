/** Direct messages: each handler hands its decoded input to the `Conversations` use-cases. */
import { Effect } from "effect"
import type { RequestContext } from "../../observability/RequestContext.ts"
import { Conversations } from "../../social/Conversations.ts"
import type { Auth } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { withRateLimit } from "./rateLimit.ts"
import { requiredViewer } from "./users.ts"

/** Runs a use-case for the signed-in viewer. */
const as = <A, E, R>(f: (dm: Conversations["Type"], userId: string) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(requiredViewer, (viewer) => Effect.flatMap(Conversations, (dm) => f(dm, viewer.userId)))

export const conversationsHandlers = {
  list: ({ urlParams }) => as((dm, me) => dm.list(me, urlParams)),
  requests: ({ urlParams }) => as((dm, me) => dm.requests(me, urlParams)),
  unread: () => as((dm, me) => dm.unread(me)),
  create: ({ payload }) => withRateLimit(as((dm, me) => dm.create(me, payload))),
  get: ({ path }) => as((dm, me) => dm.get(path.id, me)),
  update: ({ path, payload }) => as((dm, me) => dm.update(path.id, me, payload)),
  messages: ({ path, urlParams }) => as((dm, me) => dm.messages(path.id, me, urlParams)),
  send: ({ path, payload }) => withRateLimit(as((dm, me) => dm.send(path.id, me, payload))),
  read: ({ path, payload }) => as((dm, me) => dm.read(path.id, me, payload.seq)),
  deleteMessage: ({ path }) => as((dm, me) => dm.remove(path.id, me, path.seq)),
  react: ({ path, payload }) => as((dm, me) => dm.react(path.id, me, path.seq, payload.emoji)),
  unreact: ({ path }) => as((dm, me) => dm.react(path.id, me, path.seq, null)),
  addMembers: ({ path, payload }) => as((dm, me) => dm.addMembers(path.id, me, payload.usernames)),
  removeMember: ({ path }) => as((dm, me) => dm.removeMember(path.id, me, path.username)),
  leave: ({ path }) => as((dm, me) => dm.leave(path.id, me)),
  accept: ({ path }) => as((dm, me) => Effect.map(dm.respond(path.id, me, true), (c) => c!)),
  decline: ({ path }) => as((dm, me) => Effect.asVoid(dm.respond(path.id, me, false)))
} satisfies GroupHandlers<"conversations", Conversations | Auth | RequestContext>
