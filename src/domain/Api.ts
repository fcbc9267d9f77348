/**
 * The Aperture HTTP contract, defined once. Both transports serve it, `/api/v1/openapi.json`
 * and `/docs` are generated from it, and `HttpApiClient.make(Api)` gives a typed client.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Context, Schema } from "effect"
import * as A from "./Accounts.ts"
import * as E from "./ApiError.ts"
import * as P from "./Posts.ts"
import * as G from "./Engagement.ts"
import * as N from "./Notifications.ts"
import { EchoPayload, Health, NodeInfo, Readiness, SampleList, SampleQuery } from "./System.ts"

/**
 * Marks an endpoint whose request body the handler consumes as a stream (uploads): transports do
 * not read it up front, and the handler checks its type and size as the bytes arrive.
 */
export class StreamedBody extends Context.Tag("aperture/StreamedBody")<StreamedBody, true>() {}

export const PrometheusText = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain; version=0.0.4; charset=utf-8" })
)

/** Process-level probes, outside the versioned base path. */
export class OpsGroup extends HttpApiGroup.make("ops")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health))
  .add(HttpApiEndpoint.get("readyz", "/readyz").addSuccess(Readiness))
  .add(HttpApiEndpoint.get("metrics", "/metrics").addSuccess(PrometheusText))
{}

export class SystemGroup extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("info", "/system/info").addSuccess(NodeInfo))
  .add(HttpApiEndpoint.get("sample", "/system/sample").setUrlParams(SampleQuery).addSuccess(SampleList))
  .add(HttpApiEndpoint.post("echo", "/system/echo").setPayload(EchoPayload).addSuccess(EchoPayload))
  .prefix("/api/v1")
{}

export class AuthGroup extends HttpApiGroup.make("auth")
  .add(HttpApiEndpoint.post("signup", "/auth/signup").setPayload(A.Signup).addSuccess(A.AuthResult, { status: 201 }))
  .add(HttpApiEndpoint.post("login", "/auth/login").setPayload(A.Login).addSuccess(A.AuthResult))
  .add(HttpApiEndpoint.post("logout", "/auth/logout").addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.get("me", "/auth/me").addSuccess(A.Me))
  .add(HttpApiEndpoint.post("wsTicket", "/auth/ws-ticket").addSuccess(A.WsTicket))
  .prefix("/api/v1")
{}

export class UsersGroup extends HttpApiGroup.make("users")
  .add(HttpApiEndpoint.get("profile", "/users/:username").setPath(A.UsernamePath).addSuccess(A.Profile))
  .add(HttpApiEndpoint.patch("update", "/users/me").setPayload(A.ProfileUpdate).addSuccess(A.Me))
  .add(HttpApiEndpoint.get("blocks", "/users/me/blocks").setUrlParams(A.PageQuery).addSuccess(A.UserCardPage))
  .prefix("/api/v1")
{}

export class GraphGroup extends HttpApiGroup.make("graph")
  .add(HttpApiEndpoint.post("follow", "/users/:username/follow").setPath(A.UsernamePath).addSuccess(A.FollowState))
  .add(HttpApiEndpoint.del("unfollow", "/users/:username/follow").setPath(A.UsernamePath).addSuccess(A.FollowState))
  .add(
    HttpApiEndpoint.get("followers", "/users/:username/followers").setPath(A.UsernamePath).setUrlParams(A.PageQuery)
      .addSuccess(A.UserPage)
  )
  .add(
    HttpApiEndpoint.get("following", "/users/:username/following").setPath(A.UsernamePath).setUrlParams(A.PageQuery)
      .addSuccess(A.UserPage)
  )
  .add(HttpApiEndpoint.get("requests", "/follow-requests").setUrlParams(A.PageQuery).addSuccess(A.FollowRequestPage))
  .add(HttpApiEndpoint.post("approve", "/follow-requests/:id/approve").setPath(A.IdPath).addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.post("deny", "/follow-requests/:id/deny").setPath(A.IdPath).addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.post("block", "/users/:username/block").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.del("unblock", "/users/:username/block").setPath(A.UsernamePath).addSuccess(HttpApiSchema.NoContent))
  .prefix("/api/v1")
{}

export class PostsGroup extends HttpApiGroup.make("posts")
  .add(
    HttpApiEndpoint.post("create", "/posts")
      .setPayload(Schema.Union(P.CreateFromUpload, HttpApiSchema.MultipartStream(P.PostForm)))
      .addSuccess(P.PostAccepted, { status: 202 })
      .annotate(StreamedBody, true)
  )
  .add(HttpApiEndpoint.get("get", "/posts/:id").setPath(P.PostIdPath).addSuccess(P.Post))
  .add(HttpApiEndpoint.del("remove", "/posts/:id").setPath(P.PostIdPath).addSuccess(HttpApiSchema.NoContent))
  .add(
    HttpApiEndpoint.get("grid", "/users/:username/posts").setPath(A.UsernamePath).setUrlParams(A.PageQuery)
      .addSuccess(P.PostPage)
  )
  .add(HttpApiEndpoint.post("upload", "/uploads").addSuccess(P.UploadTarget, { status: 201 }))
  .add(
    HttpApiEndpoint.put("receive", "/uploads/:id")
      .setPath(P.PostIdPath)
      .setUrlParams(Schema.Struct({ expires: Schema.NumberFromString, sig: Schema.String }))
      .setPayload(Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "application/octet-stream" })))
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(StreamedBody, true)
  )
  .add(
    HttpApiEndpoint.put("avatar", "/users/me/avatar")
      .setPayload(HttpApiSchema.MultipartStream(Schema.Struct({ image: Schema.Unknown })))
      .addSuccess(P.AvatarAccepted, { status: 202 })
      .annotate(StreamedBody, true)
  )
  .add(HttpApiEndpoint.post("requeue", "/admin/media/:id/requeue").setPath(P.PostIdPath).addSuccess(P.PostAccepted, { status: 202 }))
  .prefix("/api/v1")
{}

/** Rendered media: public, immutable, served with Range and ETag support. */
export class MediaGroup extends HttpApiGroup.make("media")
  .add(
    HttpApiEndpoint.get("get", "/media/:key")
      .setPath(Schema.Struct({ key: Schema.String.pipe(Schema.maxLength(200)) }))
      .addSuccess(Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/webp" })))
  )
{}

export class SearchGroup extends HttpApiGroup.make("search")
  .add(HttpApiEndpoint.get("users", "/search/users").setUrlParams(A.SearchQuery).addSuccess(A.UserPage))
  .prefix("/api/v1")
{}

/** The home feed: newest first, hybrid fan-out; `X-Aperture-Degraded: redis` when served without Redis. */
export class FeedGroup extends HttpApiGroup.make("feed")
  .add(HttpApiEndpoint.get("home", "/feed").setUrlParams(A.PageQuery).addSuccess(G.FeedPage))
  .prefix("/api/v1")
{}

export const CommentIdPath = Schema.Struct({ id: Schema.UUID })

/** Likes, saves and comments; like and save are idempotent. */
export class EngagementGroup extends HttpApiGroup.make("engagement")
  .add(HttpApiEndpoint.post("like", "/posts/:id/like").setPath(P.PostIdPath).addSuccess(G.LikeState))
  .add(HttpApiEndpoint.del("unlike", "/posts/:id/like").setPath(P.PostIdPath).addSuccess(G.LikeState))
  .add(HttpApiEndpoint.post("save", "/posts/:id/save").setPath(P.PostIdPath).addSuccess(G.SaveState))
  .add(HttpApiEndpoint.del("unsave", "/posts/:id/save").setPath(P.PostIdPath).addSuccess(G.SaveState))
  .add(HttpApiEndpoint.get("comments", "/posts/:id/comments").setPath(P.PostIdPath).setUrlParams(A.PageQuery).addSuccess(G.CommentPage))
  .add(HttpApiEndpoint.post("comment", "/posts/:id/comments").setPath(P.PostIdPath).setPayload(G.NewComment).addSuccess(G.Comment, { status: 201 }))
  .add(HttpApiEndpoint.del("deleteComment", "/comments/:id").setPath(CommentIdPath).addSuccess(HttpApiSchema.NoContent))
  .prefix("/api/v1")
{}

/** Grouped notifications with the exact unread count; `POST /notifications/read {}` marks all read. */
export class NotificationsGroup extends HttpApiGroup.make("notifications")
  .add(HttpApiEndpoint.get("list", "/notifications").setUrlParams(A.PageQuery).addSuccess(N.NotificationPage))
  .add(HttpApiEndpoint.post("read", "/notifications/read").setPayload(N.MarkRead).addSuccess(N.UnreadCount))
  .prefix("/api/v1")
{}

export class Api extends HttpApi.make("aperture")
  .add(OpsGroup)
  .add(SystemGroup)
  .add(AuthGroup)
  .add(UsersGroup)
  .add(GraphGroup)
  .add(SearchGroup)
  .add(PostsGroup)
  .add(FeedGroup)
  .add(EngagementGroup)
  .add(NotificationsGroup)
  .add(MediaGroup)
  .addError(E.BadRequestWire)
  .addError(E.UnauthorizedWire)
  .addError(E.ForbiddenWire)
  .addError(E.NotFoundWire)
  .addError(E.MethodNotAllowedWire)
  .addError(E.ConflictWire)
  .addError(E.PayloadTooLargeWire)
  .addError(E.UnsupportedMediaTypeWire)
  .addError(E.UnprocessableWire)
  .addError(E.RateLimitedWire)
  .addError(E.ServiceUnavailableWire)
  .addError(E.InternalErrorWire)
{}

export const ApiBasePath = "/api/v1"
