/**
 * The contract compiled once into a route table: for each endpoint its method and path, the
 * decoders of its inputs, the encoders of its success and error schemas, and its handler.
 * uWS dispatches through this table natively; the standard transport uses it to tell 404 from 405
 * and to check bodies before `HttpApiBuilder` sees them — so both answer bad input the same way.
 */
import { HttpApi, HttpApiSchema, HttpServerResponse } from "@effect/platform"
import { Effect, Option, ParseResult, Schema, SchemaAST } from "effect"
import { Api } from "../domain/Api.ts"
import { BadRequest } from "../domain/ApiError.ts"
import type { AnyHandler, ApiHandlers, HandlerServices } from "./Handlers.ts"

export interface EncodedBody {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: string | Uint8Array | undefined
}

export interface RawInput {
  readonly params: Record<string, string>
  readonly query: string
  readonly headers: Record<string, string>
  /** Parsed JSON when the endpoint takes a JSON payload; undefined otherwise. */
  readonly json: unknown
}

export interface CompiledRoute {
  readonly group: string
  readonly name: string
  readonly method: string
  /** Path template as the contract states it, e.g. `/api/v1/users/:username`; also the metrics label. */
  readonly path: string
  readonly paramNames: ReadonlyArray<string>
  readonly matcher: RegExp
  /** Content types the payload may be sent as; empty when the endpoint takes no body. */
  readonly payloadTypes: ReadonlyArray<string>
  readonly decode: (input: RawInput) => Effect.Effect<Record<string, unknown>, BadRequest>
  readonly encodeSuccess: (value: unknown) => Effect.Effect<EncodedBody | HttpServerResponse.HttpServerResponse>
  readonly handler: AnyHandler
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

export const pathMatcher = (path: string) =>
  new RegExp(
    "^" + path.split("/").map((seg) => seg.startsWith(":") ? "([^/]+)" : escapeRegExp(seg)).join("/") + "/?$"
  )

/** Turns a ParseError into the 400 every transport returns for input that does not decode. */
export const badRequestFrom = (where: string) => (error: ParseResult.ParseError) =>
  new BadRequest({
    message: `invalid ${where}`,
    details: ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => ({
      path: i.path.map(String),
      message: i.message
    }))
  })

const decoderOf = (schema: Option.Option<unknown>, where: string) =>
  Option.match(schema, {
    onNone: () => undefined,
    onSome: (s) => {
      const decode = Schema.decodeUnknown(s as unknown as Schema.Schema<unknown, unknown>, { onExcessProperty: "ignore" })
      return (u: unknown) => Effect.mapError(decode(u), badRequestFrom(where))
    }
  })

const encoderOf = (successes: ReadonlyMap<number, { readonly ast: Option.Option<SchemaAST.AST> }>) => {
  const members = [...successes].map(([status, { ast }]) =>
    Option.match(ast, {
      onNone: () => ({ status, is: (_: unknown) => true, encode: (_: unknown) => Effect.succeed<EncodedBody>({ status, contentType: undefined, body: undefined }) }),
      onSome: (ast) => {
        const schema = Schema.make<unknown, unknown, never>(ast)
        const encoding = HttpApiSchema.getEncoding(ast)
        const encode = Schema.encode(schema)
        return {
          status,
          is: Schema.is(schema),
          encode: (value: unknown) =>
            Effect.map(encode(value), (encoded): EncodedBody => ({
              status,
              contentType: encoding.contentType,
              body: encoding.kind === "Json" ? JSON.stringify(encoded) : encoded as string | Uint8Array
            }))
        }
      }
    })
  )
  return (value: unknown) => {
    if (HttpServerResponse.isServerResponse(value)) return Effect.succeed(value)
    const member = members.length === 1 ? members[0]! : members.find((m) => m.is(value)) ?? members[0]!
    return Effect.orDie(member.encode(value))
  }
}

/** Compiles the contract and the handler tables into the route table. */
export const compileRoutes = (handlers: ApiHandlers<HandlerServices>): ReadonlyArray<CompiledRoute> => {
  const routes: Array<CompiledRoute> = []
  HttpApi.reflect(Api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, group, payloads, successes }) => {
      const table = handlers[group.identifier as keyof ApiHandlers<HandlerServices>] as Record<string, AnyHandler>
      const handler = table[endpoint.name]
      if (handler === undefined) throw new Error(`no handler for ${group.identifier}.${endpoint.name}`)
      const paramNames = endpoint.path.split("/").filter((s) => s.startsWith(":")).map((s) => s.slice(1))
      const decodePath = decoderOf(endpoint.pathSchema, "path")
      const decodeQuery = decoderOf(endpoint.urlParamsSchema, "query")
      const decodeHeaders = decoderOf(endpoint.headersSchema, "headers")
      const decodePayload = decoderOf(endpoint.payloadSchema, "body")
      const hasBody = endpoint.method !== "GET" && endpoint.method !== "HEAD" && endpoint.method !== "OPTIONS"
      const payloadTypes = hasBody ? [...payloads.keys()] : []
      routes.push({
        group: group.identifier,
        name: endpoint.name,
        method: endpoint.method,
        path: endpoint.path,
        paramNames,
        matcher: pathMatcher(endpoint.path),
        payloadTypes,
        handler,
        encodeSuccess: encoderOf(successes),
        decode: (raw) =>
          Effect.gen(function*() {
            const input: Record<string, unknown> = {}
            if (decodePath) input.path = yield* decodePath(raw.params)
            if (decodeQuery) {
              // a repeated key becomes an array, a single one stays a string
              const params: Record<string, string | Array<string>> = {}
              for (const [k, v] of new URLSearchParams(raw.query)) {
                const prev = params[k]
                params[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
              }
              input.urlParams = yield* decodeQuery(params)
            }
            if (decodeHeaders) input.headers = yield* decodeHeaders(raw.headers)
            if (decodePayload && hasBody) input.payload = yield* decodePayload(raw.json)
            return input
          })
      })
    }
  })
  return routes
}

export type RouteLookup =
  | { readonly _tag: "Found"; readonly route: CompiledRoute; readonly params: Record<string, string> }
  | { readonly _tag: "MethodNotAllowed"; readonly allow: ReadonlyArray<string> }
  | { readonly _tag: "NotFound" }

/** Finds the route for a method and path, telling an unknown path from a known one with the wrong method. */
export const lookup = (routes: ReadonlyArray<CompiledRoute>, method: string, path: string): RouteLookup => {
  const allow: Array<string> = []
  const upper = method.toUpperCase()
  for (const route of routes) {
    const m = route.matcher.exec(path)
    if (m === null) continue
    if (route.method === upper || (upper === "HEAD" && route.method === "GET")) {
      const params: Record<string, string> = {}
      route.paramNames.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]!)
      })
      return { _tag: "Found", route, params }
    }
    allow.push(route.method)
  }
  return allow.length > 0 ? { _tag: "MethodNotAllowed", allow } : { _tag: "NotFound" }
}

/** Whether a request's Content-Type is one the route accepts (parameters such as charset ignored). */
export const acceptsContentType = (route: CompiledRoute, contentType: string | undefined) => {
  const base = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  return route.payloadTypes.some((t) => t.toLowerCase() === base)
}
