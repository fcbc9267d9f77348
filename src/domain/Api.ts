/**
 * The Aperture HTTP contract, defined once. Both transports serve it, `/api/v1/openapi.json`
 * and `/docs` are generated from it, and `HttpApiClient.make(Api)` gives a typed client.
 *
 * Each endpoint declares what it answers: its successes, the errors it can fail with (`errors`
 * below: its handler's failures plus what the pipeline refuses before the handler — 400 for bad
 * input, 413/415 for a body), and `Authenticated` when it needs a session (401 comes with it).
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import { Context, Schema } from "effect"
import * as A from "./Accounts.ts"
import * as D from "./Admin.ts"
import * as I from "./Inspector.ts"
import * as Pg from "./Pages.ts"
import * as E from "./ApiError.ts"
import * as P from "./Posts.ts"
import * as G from "./Engagement.ts"
import * as N from "./Notifications.ts"
import * as M from "./Conversations.ts"
import * as St from "./Stories.ts"
import * as Et from "./EmbedTokens.ts"
import { Authenticated, OpsToken } from "./Security.ts"
import { EchoPayload, Health, NodeInfo, Readiness, SampleList, SampleQuery } from "./System.ts"

/**
 * Marks an endpoint whose request body the handler consumes as a stream (uploads): transports do
 * not read it up front, and the handler checks its type and size as the bytes arrive.
 */
export class StreamedBody extends Context.Tag("aperture/StreamedBody")<StreamedBody, true>() {}

/** Marks a benchmark fixture: served only when the server runs with BENCH_FIXTURES=1, a 404 otherwise. */
export class BenchFixture extends Context.Tag("aperture/BenchFixture")<BenchFixture, true>() {}

/**
 * Marks a create that honours `Idempotency-Key` (see http/Idempotency.ts): the pipeline reserves
 * the key before the handler and answers a repeat with the recorded response.
 */
export class IdempotentCreate extends Context.Tag("aperture/IdempotentCreate")<IdempotentCreate, true>() {}

/** A client-chosen key: 1–255 printable ASCII characters, no space at either end. */
export const IdempotencyKey = Schema.String.pipe(
  Schema.pattern(/^[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?$/, {
    message: () => "Idempotency-Key must be 1–255 printable ASCII characters"
  })
).annotations({
  description: "Makes this create safe to retry: the same key and request within 24 hours answer the first response " +
    "again (with `Idempotent-Replayed: true`) instead of creating twice. 1–255 printable ASCII characters, e.g. a UUID."
})

const IdempotencyHeaders = Schema.Struct({ "idempotency-key": Schema.optional(IdempotencyKey) })

export const PrometheusText = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain; version=0.0.4; charset=utf-8" })
)

/** Adds error responses to an endpoint (each wire schema carries its status). */
const errors = <const W extends ReadonlyArray<Schema.Schema.Any>>(...wires: W) =>
<Endpoint extends HttpApiEndpoint.HttpApiEndpoint.Any>(
  endpoint: Endpoint
): HttpApiEndpoint.HttpApiEndpoint.AddError<Endpoint, Schema.Schema.Type<W[number]>, Schema.Schema.Context<W[number]>> =>
  wires.reduce((e: any, wire) => e.addError(wire), endpoint)

/**
 * Opts a create into `Idempotency-Key`: the optional header, its 409 (still in flight) and 422
 * (key used for another request), and the annotation the route table reads. One line per create.
 */
const idempotent = <
  Name extends string,
  Method extends HttpMethod,
  Path,
  UrlParams,
  Payload,
  Success,
  Error,
  R,
  RE
>(endpoint: HttpApiEndpoint.HttpApiEndpoint<Name, Method, Path, UrlParams, Payload, never, Success, Error, R, RE>) =>
  endpoint.setHeaders(IdempotencyHeaders).annotate(IdempotentCreate, true).pipe(
    errors(E.IdempotencyInProgressWire, E.IdempotencyKeyReusedWire)
  )

/** The operation's summary (one line) and, where it helps, a description. */
const doc = (summary: string, description?: string) =>
  OpenApi.annotations(description === undefined ? { summary } : { summary, description })

const { BadRequestWire: B, ForbiddenWire: F, NotFoundWire: NF, ConflictWire: C, UnprocessableWire: U } = E
const { RateLimitedWire: R, ServiceUnavailableWire: S } = E
/** What the body policy refuses before the handler: a body too large or of the wrong type. */
const { PayloadTooLargeWire: TooLarge, UnsupportedMediaTypeWire: BadType } = E

/** A file part of a multipart form: any bytes to the decoder, a binary string to OpenAPI. */
const imageFile = (description: string) =>
  Schema.Unknown.annotations({
    jsonSchema: { type: "string", format: "binary", contentMediaType: "image/*", description }
  })

/** The multipart form of `POST /posts` as documented: `PostForm` with its image as a file part. */
const PostUploadForm = Schema.Struct({
  ...P.PostForm.fields,
  image: imageFile("the photo: JPEG, PNG, WebP, AVIF or GIF (first frame), at most 10 MB")
})

const AvatarForm = Schema.Struct({
  image: imageFile("the new avatar: JPEG, PNG, WebP, AVIF or GIF (first frame), at most 10 MB")
})

/** Process-level probes, outside the versioned base path. */
export class OpsGroup extends HttpApiGroup.make("ops")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health)
      .annotateContext(doc("Liveness probe", "200 while the process runs; checks no dependency."))
  )
  .add(
    HttpApiEndpoint.get("readyz", "/readyz").addSuccess(Readiness).pipe(errors(S))
      .annotateContext(doc("Readiness probe", "200 when PostgreSQL, Redis and NATS are reachable; 503 naming the ones that are down."))
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics").addSuccess(PrometheusText).pipe(errors(E.UnauthorizedWire, NF))
      .middleware(OpsToken)
      .annotateContext(doc(
        "Prometheus metrics",
        "Request latency histograms, actor counts and mailbox depths, fan-out lag, media durations, consumer pending. " +
          "With OPS_TOKEN set it needs `Authorization: Bearer <OPS_TOKEN>` (401 otherwise); in production without a token, " +
          "or with a separate METRICS_PORT listener, it is not served here (404)."
      ))
  )
  .annotateContext(OpenApi.annotations({ description: "Process probes and metrics for orchestrators and Prometheus (outside /api/v1)." }))
{}

/** Shared links: the app's page for a post or profile with its preview tags, and the oEmbed provider (outside /api/v1). */
export class PagesGroup extends HttpApiGroup.make("pages")
  .add(
    HttpApiEndpoint.get("postPage", "/p/:id").setPath(Pg.PostPagePath).addSuccess(Pg.HtmlPage).pipe(errors(B))
      .annotateContext(doc(
        "A post's page",
        "The web app, with the post's title, description, image and Open Graph tags and an oEmbed discovery link when the post is public; the app's page alone otherwise (nothing says whether a hidden post exists)."
      ))
  )
  .add(
    HttpApiEndpoint.get("profilePage", "/u/:username").setPath(Pg.ProfilePagePath).addSuccess(Pg.HtmlPage).pipe(errors(B))
      .annotateContext(doc(
        "A profile's page",
        "The web app, with the account's name, bio and avatar as Open Graph tags and an oEmbed discovery link. Usernames with dots work (`/u/bob.builder`)."
      ))
  )
  .add(
    HttpApiEndpoint.get("oembed", "/oembed").setUrlParams(Pg.OEmbedQuery).addSuccess(Pg.OEmbed).pipe(errors(B, NF))
      .annotateContext(doc(
        "oEmbed provider",
        "For a public post (`/p/<id>`) or a profile (`/u/<username>`) URL of this server: a `rich` oEmbed 1.0 answer whose `html` is the widget (`<ap-post>` or `<ap-profile>`) and its script. 404 for anything else, including posts the public may not see."
      ))
  )
  .add(
    HttpApiEndpoint.get("embedPage", "/embed").addSuccess(Pg.HtmlPage)
      .annotateContext(doc("How to embed", "Copy-paste snippets for every widget with this server's origin, their attributes and theme properties, and embed tokens."))
  )
  .annotateContext(OpenApi.annotations({ description: "Shared links: post and profile pages with preview tags, and oEmbed." }))
{}

export class SystemGroup extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("info", "/system/info").addSuccess(NodeInfo)
      .annotateContext(doc(
        "Describe this node",
        "Version, node id, roles, transport and runtime of the node that answered — for an operator (`Authorization: Bearer <OPS_TOKEN>`, " +
          "or any caller of a development server without a token); everyone else gets the name alone."
      ))
  )
  .add(
    HttpApiEndpoint.get("sample", "/system/sample").setUrlParams(SampleQuery).addSuccess(SampleList).pipe(errors(B, NF))
      .annotate(BenchFixture, true)
      .annotateContext(doc("A fixed sample list", "A deterministic list without I/O, for benchmarks of the JSON path. Only with BENCH_FIXTURES=1 (404 otherwise)."))
  )
  .add(
    HttpApiEndpoint.post("echo", "/system/echo").setPayload(EchoPayload).addSuccess(EchoPayload).pipe(errors(B, TooLarge, BadType, NF))
      .annotate(BenchFixture, true)
      .annotateContext(doc("Echo a JSON body", "Decodes the body strictly and returns it as sent, for benchmarks. Only with BENCH_FIXTURES=1 (404 otherwise)."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Node information and benchmark fixtures (BENCH_FIXTURES=1); no session, no side effects." }))
{}

export class AuthGroup extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("signup", "/auth/signup").setPayload(A.Signup).addSuccess(A.AuthResult, { status: 201 })
      .pipe(errors(B, TooLarge, BadType, C, U, R, S))
      .annotateContext(doc("Create an account", "Answers the new user and a session token, and sets the session cookie. 409 when the username or email is taken."))
  )
  .add(
    HttpApiEndpoint.post("login", "/auth/login").setPayload(A.Login).addSuccess(A.AuthResult)
      .pipe(errors(B, TooLarge, BadType, E.UnauthorizedWire, R, S))
      .annotateContext(doc("Sign in", "With a username or email and the password; answers the user and a session token, and sets the session cookie. 401 for wrong credentials."))
  )
  .add(
    HttpApiEndpoint.post("logout", "/auth/logout").addSuccess(HttpApiSchema.NoContent).pipe(errors(F, S))
      .annotateContext(doc("Sign out", "Revokes the session sent, if any, closes its sockets and clears the cookie; without a session it only clears the cookie."))
  )
  .add(
    HttpApiEndpoint.get("me", "/auth/me").addSuccess(A.Me).middleware(Authenticated).pipe(errors(F, S))
      .annotateContext(doc("The signed-in account"))
  )
  .add(
    HttpApiEndpoint.post("logoutOthers", "/auth/logout-others").addSuccess(A.SessionsEnded).middleware(Authenticated).pipe(errors(F, S))
      .annotateContext(doc("Sign out everywhere else", "Ends every other session of your account (each of their sockets closes with 4401 now); this one stays."))
  )
  .add(
    HttpApiEndpoint.post("changePassword", "/auth/password").setPayload(A.PasswordChange).addSuccess(A.SessionsEnded)
      .middleware(Authenticated).pipe(errors(B, F, U, R, S))
      .annotateContext(doc(
        "Change your password",
        "Needs the current password (a wrong one is a 422 at `currentPassword` and counts against the log-in failure limit); a guessable new one is a 422 at `newPassword`. Every other session ends; this one stays."
      ))
  )
  .add(
    HttpApiEndpoint.get("session", "/auth/session").addSuccess(A.SessionState).pipe(errors(S))
      .annotateContext(doc("Who is signed in", "The account of the session (cookie or bearer token), or `user: null` for anyone else: a page can ask without a 401 in its console. An expired or revoked session is `null` too."))
  )
  .add(
    HttpApiEndpoint.post("wsTicket", "/auth/ws-ticket").addSuccess(A.WsTicket).middleware(Authenticated).pipe(errors(F, S))
      .annotateContext(doc("Issue a WebSocket ticket", "A short-lived, single-use ticket to open `/ws?ticket=` from a page on another origin."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Accounts and sessions: sign-up, log-in, log-out, the current account and WebSocket tickets." }))
{}

export class UsersGroup extends HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.get("profile", "/users/:username").setPath(A.UsernamePath).addSuccess(A.Profile).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A user's profile", "Counts and viewer flags; a private account shows its content only to followers (`canViewContent`)."))
  )
  .add(
    HttpApiEndpoint.patch("update", "/users/me").setPayload(A.ProfileUpdate).addSuccess(A.Me).middleware(Authenticated)
      .pipe(errors(B, TooLarge, BadType, F, R, S))
      .annotateContext(doc("Update your profile", "Display name, bio and privacy; fields left out stay as they are."))
  )
  .add(
    HttpApiEndpoint.get("blocks", "/users/me/blocks").setUrlParams(A.PageQuery).addSuccess(A.UserCardPage).middleware(Authenticated)
      .pipe(errors(B, F, S))
      .annotateContext(doc("Accounts you block", "Newest first, cursor-paginated, so they can be unblocked."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Profiles: reading anyone's, editing your own, and the list of accounts you block." }))
{}

export class GraphGroup extends HttpApiGroup.make("graph")
  .add(
    HttpApiEndpoint.post("follow", "/users/:username/follow").setPath(A.UsernamePath).addSuccess(A.FollowState).middleware(Authenticated)
      .pipe(errors(B, F, NF, U, R, S))
      .annotateContext(doc("Follow a user", "Idempotent; a private account yields a follow request (`requested`)."))
  )
  .add(
    HttpApiEndpoint.del("unfollow", "/users/:username/follow").setPath(A.UsernamePath).addSuccess(A.FollowState)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Unfollow a user", "Idempotent; also withdraws a pending follow request."))
  )
  .add(
    HttpApiEndpoint.get("followers", "/users/:username/followers").setPath(A.UsernamePath).setUrlParams(A.PageQuery)
      .addSuccess(A.UserPage).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A user's followers", "Cursor-paginated; 403 for a private account the viewer does not follow."))
  )
  .add(
    HttpApiEndpoint.get("following", "/users/:username/following").setPath(A.UsernamePath).setUrlParams(A.PageQuery)
      .addSuccess(A.UserPage).pipe(errors(B, F, NF, S))
      .annotateContext(doc("Whom a user follows", "Cursor-paginated; 403 for a private account the viewer does not follow."))
  )
  .add(
    HttpApiEndpoint.get("requests", "/follow-requests").setUrlParams(A.PageQuery).addSuccess(A.FollowRequestPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Pending follow requests", "Requests to follow your private account, newest first."))
  )
  .add(
    HttpApiEndpoint.post("approve", "/follow-requests/:id/approve").setPath(A.IdPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Approve a follow request"))
  )
  .add(
    HttpApiEndpoint.post("deny", "/follow-requests/:id/deny").setPath(A.IdPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Deny a follow request"))
  )
  .add(
    HttpApiEndpoint.post("block", "/users/:username/block").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, R, S))
      .annotateContext(doc("Block a user", "Removes follows both ways; each side's profile and content become invisible to the other."))
  )
  .add(
    HttpApiEndpoint.del("unblock", "/users/:username/block").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Unblock a user"))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "The social graph: follows, follower lists, follow requests of private accounts, and blocks." }))
{}

export class PostsGroup extends HttpApiGroup.make("posts")
  .add(
    HttpApiEndpoint.post("create", "/posts")
      .setPayload(Schema.Union(P.CreateFromUpload, HttpApiSchema.MultipartStream(PostUploadForm)))
      .addSuccess(P.PostAccepted, { status: 202 })
      .annotate(StreamedBody, true)
      .middleware(Authenticated)
      .pipe(errors(B, TooLarge, BadType, F, NF, C, U, R, S), idempotent)
      .annotateContext(doc(
        "Publish a photo",
        "Multipart (`caption`, `location`, then 1–10 `image` parts, each after its `altText`) or JSON with the `uploadId` (or `uploadIds`, in order, with `altTexts`) of direct uploads. A post of several photos is a carousel: `media` keeps their order. Answers 202 while the media pipeline renders every photo; one `post_ready` follows on the socket when all are done. 0 or more than 10 photos is a 400."
      ))
  )
  .add(
    HttpApiEndpoint.get("get", "/posts/:id").setPath(P.PostIdPath).addSuccess(P.Post).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A post", "With its status, variants, counts and the viewer's flags; 404 when it is not visible to the viewer."))
  )
  .add(
    HttpApiEndpoint.del("remove", "/posts/:id").setPath(P.PostIdPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Delete your post"))
  )
  .add(
    HttpApiEndpoint.patch("update", "/posts/:id").setPath(P.PostIdPath).setPayload(P.PostUpdate).addSuccess(P.Post)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Edit your post's caption or alt text", "Either or both; the caption's hashtags and mentions follow it; `altTexts` sets each photo's alt text in order. Someone else's post is a 404."))
  )
  .add(
    HttpApiEndpoint.get("saved", "/users/me/saved").setUrlParams(A.PageQuery).addSuccess(P.PostPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Your saved posts", "Newest save first, cursor-paginated; a post you may no longer see (deleted, or its account went private or blocked you) is left out."))
  )
  .add(
    HttpApiEndpoint.get("grid", "/users/:username/posts").setPath(A.UsernamePath).setUrlParams(A.PageQuery)
      .addSuccess(P.PostPage).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A user's posts", "The profile grid, newest first, cursor-paginated."))
  )
  .add(
    HttpApiEndpoint.post("upload", "/uploads").addSuccess(P.UploadTarget, { status: 201 })
      .middleware(Authenticated).pipe(errors(B, F, R, S), idempotent)
      .annotateContext(doc("Start a direct upload", "A short-lived, single-use target to PUT the image to; then `POST /posts {uploadId}`."))
  )
  .add(
    HttpApiEndpoint.put("receive", "/uploads/:id")
      .setPath(P.PostIdPath)
      .setUrlParams(Schema.Struct({ expires: Schema.NumberFromString, sig: Schema.String }))
      .setPayload(Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "application/octet-stream" })))
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(StreamedBody, true)
      .pipe(errors(B, F, NF, C, TooLarge, E.LengthRequiredWire, S))
      .annotateContext(doc(
        "Receive a direct upload",
        "The signed URL from `POST /uploads` (filesystem store): the signature authorises the upload, no session is needed. 403 for a bad signature, 409 when already used, 411 without a Content-Length."
      ))
  )
  .add(
    HttpApiEndpoint.put("avatar", "/users/me/avatar")
      .setPayload(HttpApiSchema.MultipartStream(AvatarForm))
      .addSuccess(P.AvatarAccepted, { status: 202 })
      .annotate(StreamedBody, true)
      .middleware(Authenticated)
      .pipe(errors(B, TooLarge, BadType, F, U, R, S))
      .annotateContext(doc("Replace your avatar", "Multipart with an `image` part; answers 202 while the variants are rendered."))
  )
  .add(
    HttpApiEndpoint.post("requeue", "/admin/media/:id/requeue").setPath(P.PostIdPath).addSuccess(P.PostAccepted, { status: 202 })
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("Render a post's media again", "Admins only (`ADMIN_USERNAMES`): sends the post's media job again, e.g. after it failed."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Photo posts: publishing (multipart or direct upload), reading, deleting, profile grids and avatars." }))
{}

/** Operators' endpoints: admins only (`ADMIN_USERNAMES`); anyone else signed in gets 403. */
export class AdminGroup extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.get("deadLetters", "/admin/dead-letters").setUrlParams(D.DeadLetterQuery).addSuccess(D.DeadLetterPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc(
        "Dead letters",
        "Messages a consumer gave up on after its last delivery (EVENTS consumers, the media worker), newest first; filter by `source` or `consumer`, page with `cursor`."
      ))
  )
  .add(
    HttpApiEndpoint.post("replayDeadLetter", "/admin/dead-letters/:id/replay").setPath(D.DeadLetterIdPath).addSuccess(D.DeadLetterRecord)
      .middleware(Authenticated).pipe(errors(B, F, NF, C, S))
      .annotateContext(doc(
        "Replay a dead letter",
        "Publishes the original message to its original subject again, so its consumers handle it again, and marks it replayed. Once only: a second replay is a 409."
      ))
  )
  .add(
    HttpApiEndpoint.get("actors", "/admin/actors").setUrlParams(I.ActorsOverviewQuery).addSuccess(I.ActorsOverview)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc(
        "The actor inspector",
        "Every node (asked on core NATS; `missing` names those with a live heartbeat that did not answer in time), the partition map (owner, epoch, lease expiry, the partition consumer's pending, ack-pending and redelivered), live actors per kind, the top `limit` actors by mailbox depth, handled, restarts and last activity, the streams with their consumers, and dead letters not replayed."
      ))
  )
  .add(
    HttpApiEndpoint.get("actor", "/admin/actors/:kind/:key").setPath(I.ActorPath).addSuccess(I.ActorDetail)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc(
        "One actor",
        "Asked of the node that owns the key's partition: its owner and epoch, whether it is alive, its mailbox depth, state summary and the last commands it handled with outcome and duration. An unknown kind is a 404; a key nobody owns now answers `owner: null`."
      ))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Operators: the actor inspector, dead letters and their replay. Admins only." }))
{}

/** The signature of a restricted post's media URL, as the post's JSON gives it (never built by clients). */
const MediaSignature = Schema.Struct({
  viewer: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  expires: Schema.optional(Schema.String.pipe(Schema.maxLength(16))),
  sig: Schema.optional(Schema.String.pipe(Schema.maxLength(64)))
})

/** Rendered media: public, immutable, served with Range and ETag support; a private author's only through signed URLs. */
export class MediaGroup extends HttpApiGroup.make("media")
  .add(
    HttpApiEndpoint.get("get", "/media/:key")
      .setPath(Schema.Struct({ key: Schema.String.pipe(Schema.maxLength(200)) }))
      .setUrlParams(MediaSignature)
      .addSuccess(Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/webp" })))
      .pipe(errors(B, NF))
      .annotateContext(doc(
        "A rendered image",
        "Immutable variants by content key, with ETag (304) and byte ranges (206, 416); with S3 delivery by redirect, a 302 to a presigned URL. A private author's post media are served only through the signed, short-lived URLs in the post's JSON (`Cache-Control: private`); without a valid signature, they are a 404."
      ))
  )
  .annotateContext(OpenApi.annotations({ description: "Rendered images (WebP variants) and avatars: public, immutable, cacheable for a year — except a private author's post media, served through signed URLs that expire within MEDIA_URL_TTL_SECONDS." }))
{}

export class SearchGroup extends HttpApiGroup.make("search")
  .add(
    HttpApiEndpoint.get("users", "/search/users").setUrlParams(A.SearchQuery).addSuccess(A.UserPage).pipe(errors(B, F, S))
      .annotateContext(doc("Search users", "By username or display name prefix; accounts that block the viewer are left out."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Search." }))
{}

/** The home feed: newest first, hybrid fan-out; `X-Aperture-Degraded: redis` when served without Redis. */
export class FeedGroup extends HttpApiGroup.make("feed")
  .add(
    HttpApiEndpoint.get("home", "/feed").setUrlParams(A.PageQuery).addSuccess(G.FeedPage).middleware(Authenticated)
      .pipe(errors(B, F, S))
      .annotateContext(doc(
        "Your home feed",
        "Posts of the accounts you follow, newest first, cursor-paginated. Served from PostgreSQL with `X-Aperture-Degraded: redis` when Redis is unavailable."
      ))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "The home feed (hybrid fan-out: pushed timelines merged with celebrities' outboxes)." }))
{}

export const CommentIdPath = Schema.Struct({ id: Schema.UUID })

/** Likes, saves and comments; like and save are idempotent. */
export class EngagementGroup extends HttpApiGroup.make("engagement")
  .add(
    HttpApiEndpoint.post("like", "/posts/:id/like").setPath(P.PostIdPath).addSuccess(G.LikeState).middleware(Authenticated)
      .pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Like a post", "Idempotent: answers the like state and count."))
  )
  .add(
    HttpApiEndpoint.del("unlike", "/posts/:id/like").setPath(P.PostIdPath).addSuccess(G.LikeState).middleware(Authenticated)
      .pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Unlike a post", "Idempotent: answers the like state and count."))
  )
  .add(
    HttpApiEndpoint.post("save", "/posts/:id/save").setPath(P.PostIdPath).addSuccess(G.SaveState).middleware(Authenticated)
      .pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Save a post", "Idempotent."))
  )
  .add(
    HttpApiEndpoint.del("unsave", "/posts/:id/save").setPath(P.PostIdPath).addSuccess(G.SaveState).middleware(Authenticated)
      .pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Unsave a post", "Idempotent."))
  )
  .add(
    HttpApiEndpoint.get("comments", "/posts/:id/comments").setPath(P.PostIdPath).setUrlParams(A.PageQuery).addSuccess(G.CommentPage)
      .pipe(errors(B, F, NF, S))
      .annotateContext(doc("A post's comments", "Cursor-paginated; 404 when the post is not visible to the viewer."))
  )
  .add(
    HttpApiEndpoint.post("comment", "/posts/:id/comments").setPath(P.PostIdPath).setPayload(G.NewComment)
      .addSuccess(G.Comment, { status: 201 }).middleware(Authenticated)
      .pipe(errors(B, TooLarge, BadType, F, NF, R, S), idempotent)
      .annotateContext(doc("Comment on a post"))
  )
  .add(
    HttpApiEndpoint.del("deleteComment", "/comments/:id").setPath(CommentIdPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, R, S))
      .annotateContext(doc("Delete a comment", "Your own comment, or any comment on your post."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Likes, saves and comments on posts; like and save are idempotent." }))
{}

/** Grouped notifications with the exact unread count; `POST /notifications/read {}` marks all read. */
export class NotificationsGroup extends HttpApiGroup.make("notifications")
  .add(
    HttpApiEndpoint.get("list", "/notifications").setUrlParams(A.PageQuery).addSuccess(N.NotificationPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Your notifications", "Grouped (the newest three actors and a count), newest first, with the exact unread count."))
  )
  .add(
    HttpApiEndpoint.post("read", "/notifications/read").setPayload(N.MarkRead).addSuccess(N.UnreadCount)
      .middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, S))
      .annotateContext(doc("Mark notifications read", "The ones listed in `ids`, or all of them when `ids` is left out; answers the unread count."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Notifications (likes, comments, follows, follow requests) and their unread count." }))
{}

/** Direct messages: 1:1 threads and groups of up to 32, each written by its conversation actor. */
export class ConversationsGroup extends HttpApiGroup.make("conversations")
  .add(
    HttpApiEndpoint.get("list", "/conversations").setUrlParams(A.PageQuery).addSuccess(M.ConversationPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Your conversations", "Your inbox: threads newest activity first, with the last message, your unread count and whether you muted it. Message requests are listed apart."))
  )
  .add(
    HttpApiEndpoint.get("requests", "/conversations/requests").setUrlParams(A.PageQuery).addSuccess(M.ConversationPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Message requests", "Threads started by people you do not follow; accept one to move it to your inbox. They send no notification and count in no badge until accepted."))
  )
  .add(
    HttpApiEndpoint.get("unread", "/conversations/unread").addSuccess(M.UnreadSummary)
      .middleware(Authenticated).pipe(errors(F, S))
      .annotateContext(doc("Unread messages", "The header badge: unread messages and threads of your inbox (muted threads left out), and the number of requests. Computed from sequences and read pointers."))
  )
  .add(
    HttpApiEndpoint.post("create", "/conversations").setPayload(M.NewConversation).addSuccess(M.Conversation, { status: 201 })
      .middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, U, R, C, S))
      .annotateContext(doc("Start a conversation", "With one other person (and no title) it is the 1:1 thread, the existing one if there is one; with more, a group of up to 32 you are the admin of. A block with anyone named is a 404."))
  )
  .add(
    HttpApiEndpoint.get("get", "/conversations/:id").setPath(M.ConversationPath).addSuccess(M.Conversation)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A conversation", "404 unless you are a member (and have not blocked the other person of a 1:1 thread)."))
  )
  .add(
    HttpApiEndpoint.patch("update", "/conversations/:id").setPath(M.ConversationPath).setPayload(M.ConversationPatch).addSuccess(M.Conversation)
      .middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, U, C, S))
      .annotateContext(doc("Rename or mute a conversation", "`title` (groups; null clears it) for everyone, `muted` for you."))
  )
  .add(
    HttpApiEndpoint.get("messages", "/conversations/:id/messages").setPath(M.ConversationPath).setUrlParams(M.MessageQuery)
      .addSuccess(M.MessagePage).middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A conversation's messages", "Oldest first within a page. Without a cursor, the latest page; `nextCursor` pages older, `newerCursor` newer; `around=<seq>` centres a page on a message. Members see history from their joining on."))
  )
  .add(
    HttpApiEndpoint.post("send", "/conversations/:id/messages").setPath(M.ConversationPath).setPayload(M.NewMessage)
      .addSuccess(M.Message, { status: 201 }).middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, C, U, R, S))
      .annotateContext(doc("Send a message", "Text, a shared post (`postId`) or a photo (`mediaUploadId` of a direct upload), optionally replying to `replyToSeq`. Idempotent on `clientId`: the same one again, at any later time, answers the original message. A 503 means it could not be confirmed in time: send again with the same `clientId`."))
  )
  .add(
    HttpApiEndpoint.post("read", "/conversations/:id/read").setPath(M.ConversationPath).setPayload(M.ReadPointer).addSuccess(M.ReadState)
      .middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, C, U, S))
      .annotateContext(doc("Mark read", "Moves your read pointer to `seq` (never back, never past the latest message); the other members get a `read_receipt`."))
  )
  .add(
    HttpApiEndpoint.del("deleteMessage", "/conversations/:id/messages/:seq").setPath(M.MessagePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, C, U, S))
      .annotateContext(doc("Delete a message for everyone", "Your own, within 15 minutes of sending it; a tombstone keeps its sequence."))
  )
  .add(
    HttpApiEndpoint.post("react", "/conversations/:id/messages/:seq/reactions").setPath(M.MessagePath).setPayload(M.NewReaction)
      .addSuccess(M.ReactionList).middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, U, C, S))
      .annotateContext(doc("React to a message", "One emoji per member per message: sets yours, and the same emoji again removes it."))
  )
  .add(
    HttpApiEndpoint.del("unreact", "/conversations/:id/messages/:seq/reactions").setPath(M.MessagePath)
      .addSuccess(M.ReactionList).middleware(Authenticated).pipe(errors(B, F, NF, U, C, S))
      .annotateContext(doc("Remove your reaction"))
  )
  .add(
    HttpApiEndpoint.post("addMembers", "/conversations/:id/members").setPath(M.ConversationPath).setPayload(M.MemberList)
      .addSuccess(M.Conversation).middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, U, C, S))
      .annotateContext(doc("Add members to a group", "Group admins; new members see the history from their joining on."))
  )
  .add(
    HttpApiEndpoint.del("removeMember", "/conversations/:id/members/:username").setPath(M.MemberPath)
      .addSuccess(M.Conversation).middleware(Authenticated).pipe(errors(B, F, NF, U, C, S))
      .annotateContext(doc("Remove a member from a group", "Group admins; delivery to them stops at once."))
  )
  .add(
    HttpApiEndpoint.post("leave", "/conversations/:id/leave").setPath(M.ConversationPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, C, S))
      .annotateContext(doc("Leave a group"))
  )
  .add(
    HttpApiEndpoint.post("accept", "/conversations/:id/accept").setPath(M.ConversationPath).addSuccess(M.Conversation)
      .middleware(Authenticated).pipe(errors(B, F, NF, C, U, S))
      .annotateContext(doc("Accept a message request", "Moves the thread to your inbox."))
  )
  .add(
    HttpApiEndpoint.post("decline", "/conversations/:id/decline").setPath(M.ConversationPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, C, U, S))
      .annotateContext(doc("Decline a message request", "Hides the thread from you; starting a conversation with them again brings it back."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Direct messages: threads and groups, gap-free sequences, idempotent sends, read receipts, reactions and message requests." }))
{}

/** The multipart form of `POST /stories` as documented: its fields and the image as a file part. */
const StoryUploadForm = Schema.Struct({
  ...St.StoryFormFields.fields,
  image: imageFile("The photo; it is cropped to 9:16 (cover) at 1080×1920.")
})

const StoryPath = Schema.Struct({ id: Schema.UUID })

/** Stories: 24 hours each, for followers or close friends; the tray, views, viewers, replies, archive and audience lists. */
export class StoriesGroup extends HttpApiGroup.make("stories")
  .add(
    HttpApiEndpoint.post("create", "/stories")
      .setPayload(Schema.Union(St.StoryFromUpload, HttpApiSchema.MultipartStream(StoryUploadForm)))
      .addSuccess(St.StoryAccepted, { status: 202 })
      .annotate(StreamedBody, true)
      .middleware(Authenticated)
      .pipe(errors(B, TooLarge, BadType, F, NF, C, U, R, S))
      .annotateContext(doc(
        "Post a story",
        "Multipart (`image`, `audience`, `clientId`) or JSON with the `uploadId` of a direct upload. 202 while the media pipeline renders it; `story_ready` follows on the socket, and it expires 24 hours after it is published. The same `clientId` again answers the first story. At most STORIES_MAX_ACTIVE (100) up at once."
      ))
  )
  .add(
    HttpApiEndpoint.get("tray", "/stories/feed").setUrlParams(St.TrayQuery).addSuccess(St.TrayPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("The story tray", "Your own stories first, then the people you follow with a story you may see: unseen first, then most recent. Each entry has your read pointer for that person and their active stories. Muted people are left out."))
  )
  .add(
    HttpApiEndpoint.get("archive", "/stories/archive").setUrlParams(A.PageQuery).addSuccess(St.StoryPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Your story archive", "Your expired stories, newest first, with their view counts."))
  )
  .add(
    HttpApiEndpoint.get("get", "/stories/:id").setPath(StoryPath).addSuccess(St.Story)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A story", "Its author sees it in any state; anyone else while it is live and for them; otherwise 404."))
  )
  .add(
    HttpApiEndpoint.del("remove", "/stories/:id").setPath(StoryPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("Delete your story", "Gone from every tray at once; followers with a socket get `story_removed`."))
  )
  .add(
    HttpApiEndpoint.post("view", "/stories/:id/view").setPath(StoryPath).addSuccess(St.StoryViewed)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("Mark a story viewed", "Idempotent: however often and from however many tabs, you count once. Moves your read pointer for its author. 404 once it expired."))
  )
  .add(
    HttpApiEndpoint.get("viewers", "/stories/:id/viewers").setPath(StoryPath).setUrlParams(A.PageQuery).addSuccess(St.ViewerPage)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("Who viewed your story", "Newest first, with the count; the author alone (404 for anyone else). Live as `story_view` frames, at most one a second."))
  )
  .add(
    HttpApiEndpoint.post("reply", "/stories/:id/replies").setPath(StoryPath).setPayload(St.StoryReply).addSuccess(St.StoryReplySent, { status: 201 })
      .middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, NF, C, U, R, S))
      .annotateContext(doc("Reply or react to a story", "`text` or one `emoji`: a direct message to its author that quotes the story (in your 1:1 thread with them). Idempotent on `clientId`."))
  )
  .add(
    HttpApiEndpoint.get("userStories", "/users/:username/stories").setPath(A.UsernamePath).addSuccess(St.UserStories)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("A person's stories", "Their live stories you may see, oldest first (the viewer's sequence), and your read pointer for them. Empty unless you follow them."))
  )
  .add(
    HttpApiEndpoint.get("closeFriends", "/users/me/close-friends").setUrlParams(A.PageQuery).addSuccess(A.UserCardPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Your close friends", "Who sees your close-friends stories, most recently added first."))
  )
  .add(
    HttpApiEndpoint.put("addCloseFriend", "/users/me/close-friends/:username").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, S))
      .annotateContext(doc("Add a close friend"))
  )
  .add(
    HttpApiEndpoint.del("removeCloseFriend", "/users/me/close-friends/:username").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, S))
      .annotateContext(doc("Remove a close friend"))
  )
  .add(
    HttpApiEndpoint.get("hidden", "/users/me/story-hidden").setUrlParams(A.PageQuery).addSuccess(A.UserCardPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Who your stories are hidden from", "People who never see your stories, whatever else."))
  )
  .add(
    HttpApiEndpoint.put("hide", "/users/me/story-hidden/:username").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, S))
      .annotateContext(doc("Hide your stories from someone"))
  )
  .add(
    HttpApiEndpoint.del("unhide", "/users/me/story-hidden/:username").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, S))
      .annotateContext(doc("Show your stories to someone again"))
  )
  .add(
    HttpApiEndpoint.get("muted", "/users/me/muted").setUrlParams(A.PageQuery).addSuccess(A.UserCardPage)
      .middleware(Authenticated).pipe(errors(B, F, S))
      .annotateContext(doc("Accounts you muted", "Most recently muted first, cursor-paginated, so they can be unmuted."))
  )
  .add(
    HttpApiEndpoint.post("mute", "/users/:username/mute").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, S))
      .annotateContext(doc("Mute someone's stories", "They leave your tray and send you no `story_new`; their stories stay on their profile."))
  )
  .add(
    HttpApiEndpoint.del("unmute", "/users/:username/mute").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, U, S))
      .annotateContext(doc("Unmute someone's stories"))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Stories: 24-hour photos with audiences, an unseen-first tray, exact view counts and live viewer alerts." }))
{}

/** How each error status reads in the document (the schemas name only the error's code). */
const errorDescriptions: Readonly<Record<string, string>> = {
  "400": "Bad input: a path, query or body that does not decode; `details` names the fields.",
  "401": "No valid session: sign in, then send the bearer token or the session cookie.",
  "403": "Not allowed, e.g. a cross-site write with the session cookie.",
  "404": "Unknown, or not visible to the viewer.",
  "409": "Conflicts with the current state (`IdempotencyInProgress`: the first request with this `Idempotency-Key` still runs).",
  "413": "The body is too large.",
  "415": "The body's content type is not accepted.",
  "422": "Well-formed but not acceptable (`IdempotencyKeyReused`: the `Idempotency-Key` was used for a different request).",
  "429": "Rate limited: retry after `Retry-After` seconds.",
  "503": "A service this request needs is unavailable; try again shortly."
}

const refsIn = (value: unknown, found: Set<string>) => {
  if (Array.isArray(value)) {
    for (const v of value) refsIn(v, found)
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") found.add(v.replace("#/components/schemas/", ""))
      else refsIn(v, found)
    }
  }
  return found
}

/** Embed tokens: scoped, revocable bearer tokens for widgets on other sites. A session only: an embed token is refused here. */
export class EmbedTokensGroup extends HttpApiGroup.make("embedTokens")
  .add(
    HttpApiEndpoint.post("create", "/users/me/embed-tokens").setPayload(Et.EmbedTokenCreate).addSuccess(Et.EmbedTokenCreated, { status: 201 })
      .middleware(Authenticated).pipe(errors(B, TooLarge, BadType, F, U, R, S))
      .annotateContext(doc(
        "Create an embed token",
        "`name` (1–64 characters), `scope` (`read` or `read_like`) and optional `allowedOrigins`. The secret (`ape_…`) is in this answer only; the server keeps its SHA-256. " +
          "At most 20 live tokens per account (a 422 at `name`) and 30 creates an hour (429). Needs a session: an embed token gets a 403."
      ))
  )
  .add(
    HttpApiEndpoint.get("list", "/users/me/embed-tokens").addSuccess(Et.EmbedTokenList).middleware(Authenticated).pipe(errors(F, S))
      .annotateContext(doc("Your embed tokens", "The live ones, newest first, with a hint of each secret and when it was last used (to the minute); never the secrets."))
  )
  .add(
    HttpApiEndpoint.del("revoke", "/users/me/embed-tokens/:id").setPath(Et.EmbedTokenIdPath).addSuccess(HttpApiSchema.NoContent)
      .middleware(Authenticated).pipe(errors(B, F, NF, S))
      .annotateContext(doc("Revoke an embed token", "Refused at once on every node (their caches drop it over NATS); 404 when it is not yours or already revoked."))
  )
  .prefix("/api/v1")
  .annotateContext(OpenApi.annotations({ description: "Embed tokens: scoped (read, read + like), revocable bearer tokens for widgets that act for you on other sites." }))
{}

/**
 * The document's finishing touches. Decoding failures are answered with `BadRequest` by the one
 * pipeline (Routes.ts), never with the platform's `HttpApiDecodeError` that `HttpApi.make`
 * declares on every endpoint: that schema leaves the responses (so an endpoint without input
 * advertises no 400), and so do the components only it used. Error responses get readable
 * descriptions, and a 429 its `Retry-After` header.
 */
const finish = (spec: Record<string, any>): Record<string, any> => {
  const decodeError = "#/components/schemas/HttpApiDecodeError"
  for (const item of Object.values<Record<string, any>>(spec.paths)) {
    for (const op of Object.values<any>(item)) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        const media = response.content?.["application/json"]
        if (status === "400" && media !== undefined) {
          if (media.schema.$ref === decodeError) {
            delete op.responses[status]
            continue
          }
          if (Array.isArray(media.schema.anyOf)) {
            const rest = media.schema.anyOf.filter((s: any) => s.$ref !== decodeError)
            media.schema = rest.length === 1 ? rest[0] : { ...media.schema, anyOf: rest }
          }
        }
        if (errorDescriptions[status] !== undefined) response.description = errorDescriptions[status]
        if (status === "429") {
          response.headers = {
            "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer", minimum: 1 } }
          }
        }
      }
    }
  }
  // keep the components reachable from the paths
  const schemas: Record<string, unknown> = spec.components.schemas
  const reachable = new Set<string>()
  let next = refsIn(spec.paths, new Set())
  while (next.size > 0) {
    const found = new Set<string>()
    for (const name of next) {
      if (reachable.has(name)) continue
      reachable.add(name)
      refsIn(schemas[name], found)
    }
    next = found
  }
  for (const name of Object.keys(schemas)) if (!reachable.has(name)) delete schemas[name]
  return spec
}

export class Api extends HttpApi.make("aperture")
  .add(OpsGroup)
  .add(PagesGroup)
  .add(SystemGroup)
  .add(AuthGroup)
  .add(UsersGroup)
  .add(EmbedTokensGroup)
  .add(GraphGroup)
  .add(SearchGroup)
  .add(PostsGroup)
  .add(FeedGroup)
  .add(EngagementGroup)
  .add(NotificationsGroup)
  .add(ConversationsGroup)
  .add(StoriesGroup)
  .add(AdminGroup)
  .add(MediaGroup)
  .annotateContext(OpenApi.annotations({
    title: "Aperture API",
    version: "1",
    description:
      "Real-time photo sharing: accounts, the social graph, posts, the home feed, engagement and notifications. " +
      "Errors are `{\"error\": {\"code\", \"message\", \"details\"?}}` with the matching status; a 429 carries `Retry-After`. " +
      "Endpoints that need a session say so (`security`): send `Authorization: Bearer <token>` or the `ap_session` cookie.",
    servers: [{ url: "/", description: "This server" }],
    transform: finish
  }))
{}

export const ApiBasePath = "/api/v1"
