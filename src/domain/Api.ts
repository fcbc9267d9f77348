/**
 * The Aperture HTTP contract, defined once. Both transports serve it, `/api/v1/openapi.json`
 * and `/docs` are generated from it, and `HttpApiClient.make(Api)` gives a typed client.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import * as E from "./ApiError.ts"
import { EchoPayload, Health, NodeInfo, Readiness, SampleList, SampleQuery } from "./System.ts"

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

export class Api extends HttpApi.make("aperture")
  .add(OpsGroup)
  .add(SystemGroup)
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
