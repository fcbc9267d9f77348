/**
 * What happens after each domain event: the one table of which durable EVENTS consumer reads
 * which event type, and what it does with it. Topology.ts declares the consumers from
 * `EventConsumers`; `consumeEvents` hands a consumer only the types routed to it here (typed as
 * such), acknowledges without handling the other types its filter lets through, and dead-letters
 * an event it cannot decode. test/event-routes.test.ts checks that every routed type matches the
 * consumer's filter and that every type of the union has a row.
 *
 * Order: a consumer marked `ordered` has at most one unacknowledged event in flight across all
 * nodes (JetStream `max_ack_pending: 1`) and handles it alone, so it handles events in stream order
 * — also when one fails and is redelivered, which holds the ones after it back. The only event that
 * is overtaken is one dead-lettered after EVENTS_MAX_DELIVER (a replay comes after the later ones).
 * Stream order is commit order for causally related writes (OutboxRelay.ts). There is no order
 * between different consumers.
 */
import type { EventType } from "../domain/DomainEvents.ts"

/** The durable EVENTS consumers, by name (also in Topology's `ConsumerNames`). */
export const EventConsumerNames = {
  /** Fans `ev.post.*` out to home timelines and celebrity outboxes. */
  timelineFanout: "timeline-fanout",
  /** Turns `ev.user.*` graph changes into timeline backfills and purges. */
  timelineGraph: "timeline-graph",
  /** Persists notifications and pushes live frames for likes, comments, follows, mentions. */
  notifications: "notifications",
  /** Stores story views, and tells followers and authors about stories (`story_new`, `story_view`). */
  stories: "stories"
} as const

export type EventConsumerName = (typeof EventConsumerNames)[keyof typeof EventConsumerNames]

export interface EventConsumerSpec {
  /** The JetStream filter subject (NATS 2.9: one per consumer). */
  readonly filter: string
  /** In stream order, one at a time across all nodes; otherwise `concurrency` at once per node. */
  readonly ordered: boolean
  readonly concurrency: number
}

export const EventConsumers: Readonly<Record<EventConsumerName, EventConsumerSpec>> = {
  // no order: posts are independent of each other, and the handler re-reads the post (a publish
  // handled after its delete inserts nothing)
  [EventConsumerNames.timelineFanout]: { filter: "ev.post.>", ordered: false, concurrency: 16 },
  // a follow and the unfollow after it reach the follower's timeline in that order
  [EventConsumerNames.timelineGraph]: { filter: "ev.user.>", ordered: true, concurrency: 1 },
  // an action and its undoing (like / unlike, comment / delete, follow / unfollow) in that order
  [EventConsumerNames.notifications]: { filter: "ev.>", ordered: true, concurrency: 1 },
  // no order: each batch of views is stored exactly once whatever the order, and an announcement
  // re-reads the story (one deleted meanwhile is announced to nobody)
  [EventConsumerNames.stories]: { filter: "ev.story.>", ordered: false, concurrency: 8 }
}

const fanout = EventConsumerNames.timelineFanout
const graph = EventConsumerNames.timelineGraph
const notifications = EventConsumerNames.notifications
const stories = EventConsumerNames.stories

/** Per event type: each consumer that acts on it, and what it does. `{}` is "no consumer". */
export const EventRoutes = {
  "post.published": {
    [fanout]: "into the author's and every follower's timeline (a celebrity's: into their outbox)",
    [notifications]: "a mention notification for each @name who may see the post"
  },
  "post.failed": {},
  "post.deleted": { [fanout]: "out of every timeline, the author's outbox and the card cache" },
  "post.liked": { [notifications]: "a like notification and a `like` frame to the post's author" },
  "post.unliked": { [notifications]: "removes that like from the author's notification" },
  "post.saved": {},
  "post.unsaved": {},
  "comment.created": {
    [notifications]: "a comment notification and a `comment` frame to the post's author; mentions in the text"
  },
  "comment.deleted": { [notifications]: "removes the comment's notification and its mentions" },
  "follow.requested": { [notifications]: "a follow_request notification and frame to the private account" },
  "follow.approved": {
    [notifications]: "drops the request notification; a follow_approved notification to the follower"
  },
  "user.followed": {
    [graph]: "backfills the follower's timeline with the followee's posts",
    [notifications]: "a follow notification and a `follow` frame to the followee"
  },
  "user.unfollowed": {
    [graph]: "purges the followee's posts from the follower's timeline",
    [notifications]: "removes that follow from the followee's notification"
  },
  "user.blocked": {
    [graph]: "purges each one's posts from the other's timeline",
    [notifications]: "removes what either caused the other; `blocks_changed` to both"
  },
  "story.published": { [stories]: "`story_new` to the online followers who may see it" },
  "story.deleted": { [stories]: "`story_removed` to the online followers who could see it" },
  "story.viewed": { [stories]: "stores the views once each, moves read pointers; `story_view` to authors, at most one a second" }
} as const satisfies Record<EventType, Partial<Record<EventConsumerName, string>>>

/** The event types routed to consumer `C`. */
export type RoutedTo<C extends EventConsumerName> = {
  [T in EventType]: C extends keyof (typeof EventRoutes)[T] ? T : never
}[EventType]

/** The consumers of an event type. */
export const consumersOf = (type: EventType): ReadonlyArray<EventConsumerName> =>
  Object.keys(EventRoutes[type]) as Array<EventConsumerName>

/** Whether `type` (from the wire, so any string) is routed to `consumer`. */
export const isRoutedTo = (consumer: EventConsumerName, type: string): boolean =>
  Object.hasOwn(EventRoutes, type) && consumersOf(type as EventType).includes(consumer)

/** Whether a NATS filter subject (`*` one token, `>` the rest) matches a subject. */
export const subjectMatches = (filter: string, subject: string): boolean => {
  const f = filter.split(".")
  const s = subject.split(".")
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i
    if (i >= s.length || (f[i] !== "*" && f[i] !== s[i])) return false
  }
  return f.length === s.length
}
