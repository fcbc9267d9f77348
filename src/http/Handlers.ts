/**
 * Handlers are written once per endpoint as plain functions of their decoded inputs, grouped in
 * tables typed from the contract. The uWS transport dispatches to them directly; the standard
 * transport registers the same functions with `HttpApiBuilder.group`.
 */
import type { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpServerResponse } from "@effect/platform"
import type { Effect } from "effect"
import type { Api } from "../domain/Api.ts"

type GroupsOf<A> = A extends HttpApi.HttpApi<any, infer G, any, any> ? G : never
type ErrorOf<A> = A extends HttpApi.HttpApi<any, any, infer E, any> ? E : never

export type ApiGroups = GroupsOf<typeof Api>
export type GroupName = ApiGroups["identifier"]
type EndpointsOf<G extends GroupName> = HttpApiGroup.HttpApiGroup.EndpointsWithName<ApiGroups, G>

/** The decoded inputs of an endpoint: path, urlParams, payload and headers as its schemas declare. */
export type Input<E extends HttpApiEndpoint.HttpApiEndpoint.Any> = Omit<HttpApiEndpoint.HttpApiEndpoint.Request<E>, "request">

export type GroupHandlers<G extends GroupName, R> = {
  readonly [Name in EndpointsOf<G>["name"]]: (
    input: Input<HttpApiEndpoint.HttpApiEndpoint.WithName<EndpointsOf<G>, Name>>
  ) => Effect.Effect<
    HttpApiEndpoint.HttpApiEndpoint.SuccessWithName<EndpointsOf<G>, Name> | HttpServerResponse.HttpServerResponse,
    ErrorOf<typeof Api> | HttpApiEndpoint.HttpApiEndpoint.ErrorWithName<EndpointsOf<G>, Name>,
    R
  >
}

export type ApiHandlers<R> = { readonly [G in GroupName]: GroupHandlers<G, R> }

/** A handler as the transports see it once the types have done their work. */
export type AnyHandler = (input: any) => Effect.Effect<unknown, unknown, any>

/** Services handlers may use; both transports run handlers with exactly these available. */
export type HandlerServices =
  | import("../config/AppConfig.ts").AppConfig
  | import("../observability/Probes.ts").Probes
  | import("../observability/Metrics.ts").Metrics
  | import("./Transport.ts").CurrentTransport
  | import("../observability/RequestContext.ts").RequestContext
  | import("./Auth.ts").Auth
  | import("../social/Accounts.ts").Accounts
  | import("../social/Sessions.ts").Sessions
  | import("../social/EmbedTokens.ts").EmbedTokens
  | import("../social/Social.ts").Social
  | import("../social/Posts.ts").Posts
  | import("../social/Stories.ts").Stories
  | import("../social/Uploads.ts").Uploads
  | import("../social/Feed.ts").Feed
  | import("../social/Engagement.ts").Engagement
  | import("../social/Notifications.ts").Notifications
  | import("../social/Conversations.ts").Conversations
  | import("../social/MediaFiles.ts").MediaFiles
  | import("../social/DeadLetters.ts").DeadLetters
  | import("../actors/runtime/Inspector.ts").Inspector
  | import("./RequestBody.ts").RequestBody

/** What the server's layers must provide: everything but the per-request context the transports add. */
export type ServerServices = Exclude<
  HandlerServices,
  import("../observability/RequestContext.ts").RequestContext | import("./RequestBody.ts").RequestBody
>
