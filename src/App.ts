/**
 * The process as Layers: infrastructure (PostgreSQL with migrations, Redis, NATS with its
 * topology), the outbox relay, observability, and — for the `api` role — the HTTP/WS server on
 * the configured transport. `main.ts` runs it; tests build it with their own configuration.
 */
import { Effect, Layer, Schedule } from "effect"
import { AppConfig } from "./config/AppConfig.ts"
import * as Database from "./db/Database.ts"
import * as Outbox from "./db/Outbox.ts"
import type { ApiHandlers, HandlerServices } from "./http/Handlers.ts"
import { adminHandlers } from "./http/routes/admin.ts"
import { authHandlers } from "./http/routes/auth.ts"
import { graphHandlers } from "./http/routes/graph.ts"
import { mediaHandlers } from "./http/routes/media.ts"
import { opsHandlers } from "./http/routes/ops.ts"
import { pagesHandlers } from "./http/routes/pages.ts"
import { postsHandlers } from "./http/routes/posts.ts"
import { engagementHandlers, feedHandlers, notificationsHandlers } from "./http/routes/feed.ts"
import { searchHandlers } from "./http/routes/search.ts"
import { conversationsHandlers } from "./http/routes/conversations.ts"
import { storiesHandlers } from "./http/routes/stories.ts"
import { usersHandlers } from "./http/routes/users.ts"
import { embedTokensHandlers } from "./http/routes/embed-tokens.ts"
import { systemHandlers } from "./http/routes/system.ts"
import * as Server from "./http/Server.ts"
import * as Auth from "./http/Auth.ts"
import * as Idempotency from "./http/Idempotency.ts"
import * as GraphRepo from "./db/Graph.ts"
import * as SessionsRepo from "./db/Sessions.ts"
import * as UsersRepo from "./db/Users.ts"
import * as RateLimiter from "./redis/RateLimiter.ts"
import * as Accounts from "./social/Accounts.ts"
import * as Delivery from "./social/Delivery.ts"
import * as SocketSlots from "./redis/SocketSlots.ts"
import * as Limits from "./social/Limits.ts"
import * as MediaFiles from "./social/MediaFiles.ts"
import * as PasswordHasher from "./social/PasswordHasher.ts"
import * as Sessions from "./social/Sessions.ts"
import * as EmbedTokens from "./social/EmbedTokens.ts"
import * as EmbedTokensRepo from "./db/EmbedTokens.ts"
import * as Social from "./social/Social.ts"
import * as Posts from "./social/Posts.ts"
import * as Uploads from "./social/Uploads.ts"
import * as PostsRepo from "./db/Posts.ts"
import * as FsStore from "./media/FsStore.ts"
import * as S3Store from "./media/S3Store.ts"
import * as MediaWorker from "./media/MediaWorker.ts"
import * as MediaUrls from "./media/MediaUrls.ts"
import * as MediaAudience from "./social/MediaAudience.ts"
import * as Gateway from "./http/ws/Gateway.ts"
import * as Metrics from "./observability/Metrics.ts"
import * as MetricsListener from "./observability/MetricsListener.ts"
import * as Probes from "./observability/Probes.ts"
import * as Tracing from "./observability/Tracing.ts"
import * as Redis from "./redis/Redis.ts"
import * as Bus from "./streams/Bus.ts"
import * as Nats from "./streams/Nats.ts"
import * as OutboxRelay from "./streams/OutboxRelay.ts"
import * as StreamMetrics from "./streams/StreamMetrics.ts"
import { ensureTopology } from "./streams/Topology.ts"
import * as NodeDirectory from "./streams/NodeDirectory.ts"
import * as Taps from "./streams/Taps.ts"
import * as ActorHost from "./actors/runtime/ActorHost.ts"
import * as Inspector from "./actors/runtime/Inspector.ts"
import { ConversationProtocol } from "./domain/Conversations.ts"
import { TimelineProtocol } from "./domain/Timeline.ts"
import * as Fences from "./actors/runtime/Fence.ts"
import * as Actors from "./actors/runtime/Actors.ts"
import * as FanOut from "./actors/timeline/FanOut.ts"
import * as TimelineRebuilds from "./social/TimelineRebuilds.ts"
import * as Timeline from "./actors/timeline/Timeline.ts"
import * as Conversation from "./actors/conversation/Conversation.ts"
import * as ConversationsRepo from "./db/Conversations.ts"
import * as Conversations from "./social/Conversations.ts"
import * as EngagementRepo from "./db/Engagement.ts"
import * as FeedRepo from "./db/Feed.ts"
import * as Timelines from "./redis/Timelines.ts"
import * as Engagement from "./social/Engagement.ts"
import * as Feed from "./social/Feed.ts"
import * as Notifications from "./social/Notifications.ts"
import * as NotificationsRepo from "./db/Notifications.ts"
import * as DeadLettersRepo from "./db/DeadLetters.ts"
import * as DeadLetters from "./social/DeadLetters.ts"
import * as Inbox from "./streams/Inbox.ts"
import * as Live from "./streams/Live.ts"
import * as StoriesRepo from "./db/Stories.ts"
import * as StorySets from "./redis/Stories.ts"
import * as Stories from "./social/Stories.ts"
import * as StoryViews from "./social/StoryViews.ts"
import * as StoryEvents from "./social/StoryEvents.ts"
import * as StorySweeper from "./social/StorySweeper.ts"

export const handlers = {
  ops: opsHandlers,
  pages: pagesHandlers,
  system: systemHandlers,
  auth: authHandlers,
  users: usersHandlers,
  embedTokens: embedTokensHandlers,
  graph: graphHandlers,
  search: searchHandlers,
  posts: postsHandlers,
  feed: feedHandlers,
  engagement: engagementHandlers,
  notifications: notificationsHandlers,
  conversations: conversationsHandlers,
  stories: storiesHandlers,
  admin: adminHandlers,
  media: mediaHandlers
} satisfies ApiHandlers<HandlerServices>

const NatsWithTopology = Layer.effectDiscard(ensureTopology()).pipe(Layer.provideMerge(Nats.layer))

/**
 * PostgreSQL (migrated), Redis and NATS (topology declared), over tracing: built first, so its
 * tracer (when on) is the one every layer above and every fiber they fork use.
 */
export const InfraLive = Layer.mergeAll(Database.layer, Redis.layer, NatsWithTopology).pipe(Layer.provideMerge(Tracing.layer))

/** Infrastructure plus the services every role uses. */
export const CoreLive = Layer.mergeAll(
  Bus.layer,
  Outbox.layer,
  Metrics.layer,
  Taps.layer,
  NodeDirectory.layer,
  Actors.layer,
  Fences.layer,
  Inbox.layer,
  Live.layer,
  Timelines.layer,
  FeedRepo.layer,
  GraphRepo.layer,
  UsersRepo.layer,
  PostsRepo.layer,
  NotificationsRepo.layer,
  ConversationsRepo.layer,
  StoriesRepo.layer,
  StorySets.layer,
  MediaUrls.layer,
  DeadLettersRepo.layer
).pipe(
  Layer.provideMerge(InfraLive)
)

const OutboxGauge = Layer.effectDiscard(
  Effect.gen(function*() {
    const metrics = yield* Metrics.Metrics
    const repo = yield* Outbox.OutboxRepo
    metrics.gauge("aperture_outbox_backlog", "Outbox rows not yet published to JetStream", repo.backlog)
  })
)

const PasswordHasherLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) => PasswordHasher.layerWith({ ...PasswordHasher.owaspParams, logN: c.scryptLogN }))
)

/** The blob store MEDIA_STORE names. */
export const BlobStoreLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) => (c.mediaStore === "s3" ? S3Store.layer : FsStore.layer))
)

/** Accounts, sessions, the graph and their repositories. */
export const SocialLive = Layer.mergeAll(
  Uploads.layer,
  Engagement.layer,
  Notifications.layer,
  Delivery.layer,
  MediaFiles.layer,
  DeadLetters.layer,
  Stories.layer
).pipe(
  Layer.provideMerge(Layer.mergeAll(Conversations.layer, StoryViews.layer)),
  Layer.provideMerge(Layer.mergeAll(Accounts.layer, Social.layer, Posts.layer, Feed.layer)),
  Layer.provideMerge(EmbedTokens.layer),
  Layer.provideMerge(Layer.mergeAll(Sessions.layer, Limits.layer, PasswordHasherLive, TimelineRebuilds.layer)),
  Layer.provideMerge(
    Layer.mergeAll(SessionsRepo.layer, EmbedTokensRepo.layer, EngagementRepo.layer, RateLimiter.layer, SocketSlots.layer, BlobStoreLive, MediaAudience.layer)
  )
)

/** The actor inspector, knowing the kinds this deployment runs. */
const InspectorLive = Inspector.layer([TimelineProtocol.name, ConversationProtocol.name])

export const HttpLive = Server.layer(handlers).pipe(
  Layer.provide(Layer.mergeAll(Gateway.layer, Probes.layer, Auth.layer, Idempotency.layer)),
  Layer.provide(Layer.merge(SocialLive, InspectorLive))
)

/** Expired sessions are refused on read; this only keeps the table from growing. */
const SessionJanitor = Layer.scopedDiscard(
  Effect.gen(function*() {
    const sessions = yield* SessionsRepo.SessionsRepo
    yield* sessions.purgeExpired.pipe(
      Effect.repeat(Schedule.spaced("1 hour")),
      Effect.catchAllCause((cause) => Effect.logWarning("session purge failed", cause)),
      Effect.forkScoped
    )
  })
).pipe(Layer.provide(SessionsRepo.layer))

/** What every node runs in the background, whatever its roles. */
const BackgroundLive = Layer.mergeAll(OutboxRelay.layer, OutboxGauge, SessionJanitor, MetricsListener.layer, StreamMetrics.layer)

/** Background work alone: what a node without the `api` and `media` roles runs. */
export const WorkerNodeLive = BackgroundLive.pipe(Layer.provideMerge(CoreLive))

/** The `media` role: the Sharp worker on the MEDIA stream. */
export const MediaLive = Layer.mergeAll(MediaWorker.layer, StorySweeper.layer).pipe(Layer.provide(BlobStoreLive))

/** The `actors` role: timeline actors on the partitions this node leases, and the fan-out consumers. */
export const ActorsLive = Layer.mergeAll(
  Layer.unwrapScoped(
    Effect.map(Effect.all([Timeline.make, Conversation.make]), (behaviours) => ActorHost.layer(behaviours))
  ),
  FanOut.layer,
  Notifications.consumerLayer,
  StoryEvents.consumerLayer
)

/** A node with the `api` role: background work plus the HTTP/WS server. */
export const ApiNodeLive = Layer.mergeAll(BackgroundLive, HttpLive).pipe(Layer.provideMerge(CoreLive))

/** A node with every role (what one process runs by default, and what the tests run). */
export const FullNodeLive = Layer.mergeAll(BackgroundLive, HttpLive, MediaLive, ActorsLive).pipe(Layer.provideMerge(CoreLive))

/** Everything this process runs, by its roles. */
export const AppLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => {
    const api = config.roles.has("api") ? HttpLive : Layer.empty
    const media = config.roles.has("media") ? MediaLive : Layer.empty
    const actors = config.roles.has("actors") ? ActorsLive : Layer.empty
    return Layer.mergeAll(BackgroundLive, api, media, actors).pipe(Layer.provideMerge(CoreLive))
  })
)
