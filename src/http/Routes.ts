/**
 * The contract compiled once into a route table: for each endpoint its method and path, the
 * decoders of its inputs, the encoders of its success and error schemas, and its handler.
 * uWS dispatches through this table natively; the standard transport uses it to tell 404 from 405
 * and to check bodies before `HttpApiBuilder` sees them — so both answer bad input the same way.
 */
import { HttpApi, HttpApiSchema, HttpServerResponse } from "@effect/platform"
import { Context, Either, Option, ParseResult, Schema, SchemaAST } from "effect"
import { Api, BenchFixture, IdempotentCreate, StreamedBody } from "../domain/Api.ts"
import { BadRequest } from "../domain/ApiError.ts"
import { Authenticated } from "../domain/Security.ts"
import { decodePercent } from "./pipeline/Input.ts"
import type { AnyHandler, ApiHandlers, HandlerServices } from "./Handlers.ts"

export interface EncodedBody {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: string | Uint8Array | undefined
}

export interface RawInput {
  /** Path parameters as they arrived (still percent-encoded), in the order of the path template. */
  readonly params: ReadonlyArray<string>
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
  /** The handler reads the body itself, as a stream (see StreamedBody). */
  readonly streamed: boolean
  /** A benchmark fixture: left out of the table unless BENCH_FIXTURES is on. */
  readonly benchFixture: boolean
  /** Declared with the `Authenticated` middleware: refused with 401 before the handler without a session. */
  readonly requiresSession: boolean
  /** Honours `Idempotency-Key` (declared with the contract's `idempotent`; see Idempotency.ts). */
  readonly idempotent: boolean
  readonly decode: (input: RawInput) => Either.Either<Record<string, unknown>, BadRequest>
  readonly encodeSuccess: (value: unknown) => EncodedBody | HttpServerResponse.HttpServerResponse
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

/** Input schemas have no requirements, so they decode synchronously (no fiber per input). */
const decoderOf = (schema: Option.Option<unknown>, where: string) =>
  Option.match(schema, {
    onNone: () => undefined,
    onSome: (s) => {
      const decode = Schema.decodeUnknownEither(s as unknown as Schema.Schema<unknown, unknown>, { onExcessProperty: "ignore" })
      const toBadRequest = badRequestFrom(where)
      return (u: unknown) => Either.mapLeft(decode(u), toBadRequest)
    }
  })

/**
 * Whether encoding with `ast` leaves a value's JSON unchanged: plain data, refinements, and
 * `Schema.Class` wrappers (a class instance stringifies to exactly its encoded fields). For such
 * schemas the success path is `JSON.stringify` alone — the handler's return type has already been
 * checked against the schema at compile time — which is most of the cost of a small JSON route.
 */
export const isJsonIdentity = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "Literal":
    case "UnknownKeyword":
    case "AnyKeyword":
    case "Enums":
    case "TemplateLiteral":
      return true
    case "Refinement":
      return isJsonIdentity(ast.from)
    case "TypeLiteral":
      return ast.propertySignatures.every((p) => isJsonIdentity(p.type)) &&
        ast.indexSignatures.every((i) => isJsonIdentity(i.type))
    case "TupleType":
      return ast.elements.every((e) => isJsonIdentity(e.type)) && ast.rest.every((r) => isJsonIdentity(r.type))
    case "Union":
      return ast.types.every(isJsonIdentity)
    case "Transformation":
      return ast.transformation._tag === "FinalTransformation" && ast.to._tag === "Declaration" &&
        ast.from._tag === "TypeLiteral" && isJsonIdentity(ast.from)
    default:
      return false
  }
}

const encoderOf = (successes: ReadonlyMap<number, { readonly ast: Option.Option<SchemaAST.AST> }>) => {
  const members = [...successes].map(([status, { ast }]) =>
    Option.match(ast, {
      onNone: () => ({ status, is: (_: unknown) => true, encode: (_: unknown): EncodedBody => ({ status, contentType: undefined, body: undefined }) }),
      onSome: (ast) => {
        const schema = Schema.make<unknown, unknown, never>(ast)
        const encoding = HttpApiSchema.getEncoding(ast)
        const encode = Schema.encodeSync(schema)
        const is = Schema.is(schema)
        if (encoding.kind === "Json" && isJsonIdentity(ast)) {
          return {
            status,
            is,
            encode: (value: unknown): EncodedBody => ({ status, contentType: encoding.contentType, body: JSON.stringify(value) })
          }
        }
        return {
          status,
          is,
          encode: (value: unknown): EncodedBody => {
            const encoded = encode(value)
            return {
              status,
              contentType: encoding.contentType,
              body: encoding.kind === "Json" ? JSON.stringify(encoded) : encoded as string | Uint8Array
            }
          }
        }
      }
    })
  )
  /** Throws when a handler's value does not encode: a defect, which the transports answer with a 500. */
  return (value: unknown): EncodedBody | HttpServerResponse.HttpServerResponse => {
    if (HttpServerResponse.isServerResponse(value)) return value
    const member = members.length === 1 ? members[0]! : members.find((m) => m.is(value)) ?? members[0]!
    return member.encode(value)
  }
}

/** Compiles the contract and the handler tables into the route table. */
export const compileRoutes = (handlers: ApiHandlers<HandlerServices>): ReadonlyArray<CompiledRoute> => {
  const routes: Array<CompiledRoute> = []
  HttpApi.reflect(Api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, group, mergedAnnotations, middleware, payloads, successes }) => {
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
      const streamed = Context.getOption(mergedAnnotations, StreamedBody)._tag === "Some"
      routes.push({
        group: group.identifier,
        name: endpoint.name,
        method: endpoint.method,
        path: endpoint.path,
        paramNames,
        matcher: pathMatcher(endpoint.path),
        payloadTypes,
        streamed,
        benchFixture: Context.getOption(mergedAnnotations, BenchFixture)._tag === "Some",
        requiresSession: [...middleware, ...endpoint.middlewares].some((m) => m.key === Authenticated.key),
        idempotent: Context.getOption(mergedAnnotations, IdempotentCreate)._tag === "Some",
        handler,
        encodeSuccess: encoderOf(successes),
        decode: (raw) => {
          const input: Record<string, unknown> = {}
          if (decodePath) {
            const params: Record<string, string> = {}
            for (let i = 0; i < paramNames.length; i++) {
              const value = decodePercent(raw.params[i] ?? "")
              if (value === undefined) {
                return Either.left(
                  new BadRequest({
                    message: "invalid path",
                    details: [{ path: [paramNames[i]!], message: "is not valid percent-encoded UTF-8" }]
                  })
                )
              }
              params[paramNames[i]!] = value
            }
            const r = decodePath(params)
            if (Either.isLeft(r)) return Either.left(r.left)
            input.path = r.right
          }
          if (decodeQuery) {
            // a repeated key becomes an array, a single one stays a string
            const params: Record<string, string | Array<string>> = {}
            if (raw.query !== "") {
              for (const [k, v] of new URLSearchParams(raw.query)) {
                const prev = params[k]
                params[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
              }
            }
            const r = decodeQuery(params)
            if (Either.isLeft(r)) return Either.left(r.left)
            input.urlParams = r.right
          }
          if (decodeHeaders) {
            const r = decodeHeaders(raw.headers)
            if (Either.isLeft(r)) return Either.left(r.left)
            input.headers = r.right
          }
          if (decodePayload && hasBody && !streamed) {
            const r = decodePayload(raw.json)
            if (Either.isLeft(r)) return Either.left(r.left)
            input.payload = r.right
          }
          return Either.right(input)
        }
      })
    }
  })
  return routes
}

export type RouteLookup =
  | { readonly _tag: "Found"; readonly route: CompiledRoute; readonly params: ReadonlyArray<string> }
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
      return { _tag: "Found", route, params: m.slice(1) }
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
