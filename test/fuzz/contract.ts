/**
 * The contract as the fuzzer sees it: every endpoint of `Api`, found by `HttpApi.reflect` (as the
 * server's own route table is), with fast-check arbitraries for its path parameters, URL parameters
 * and JSON payload made from its Schemas by `Arbitrary.make` — generated as the Schema's type and
 * encoded back, so what goes on the wire is what a well-behaved client would send.
 */
import { HttpApi, HttpApiSchema } from "@effect/platform"
import { Arbitrary, Option, Schema, SchemaAST } from "effect"
import fc from "fast-check"
import { Api } from "../../src/domain/Api.ts"

export type PayloadKind = "json" | "multipart" | "binary"

export interface Endpoint {
  /** `group.name`, e.g. `users.profile`. */
  readonly id: string
  readonly method: string
  /** The path template, e.g. `/api/v1/users/:username`. */
  readonly path: string
  readonly paramNames: ReadonlyArray<string>
  /** Content types of the payload by kind (empty when the endpoint takes no body). */
  readonly payloads: ReadonlyArray<{ readonly kind: PayloadKind; readonly contentType: string }>
  /** Whether the contract declares middleware (authentication) on it. */
  readonly hasMiddleware: boolean
  /** Encoded path parameters (not yet percent-encoded). */
  readonly pathParams: fc.Arbitrary<Record<string, string>>
  /** Encoded URL parameters. */
  readonly urlParams: fc.Arbitrary<Record<string, string>>
  /** The encoded JSON payload, when the endpoint takes one. */
  readonly json: fc.Arbitrary<unknown> | undefined
  /** Top-level field names of the JSON payload (where hostile text is put when none was generated). */
  readonly jsonKeys: ReadonlyArray<string>
  /** The fields of a multipart payload (file fields among them hold anything: the photo is sent there). */
  readonly form: fc.Arbitrary<Record<string, unknown>> | undefined
  /** The multipart fields that take a file (declared `Schema.Unknown`). */
  readonly fileFields: ReadonlyArray<string>
}

type AnySchema = Schema.Schema<any, any, never>

/** Values of the schema's type, encoded: what a client puts on the wire. */
const encodedArbitrary = (schema: AnySchema): fc.Arbitrary<unknown> => {
  const encode = Schema.encodeEither(schema)
  // built with this fast-check (effect bundles an older one, whose arbitraries do not mix with it)
  return (Arbitrary.makeLazy(schema)(fc as never) as unknown as fc.Arbitrary<unknown>).map((value) => {
    const encoded = encode(value)
    // a value the schema generated but cannot encode would be a bug in the schema: send it as is
    return encoded._tag === "Right" ? encoded.right : value
  })
}

const asRecord = (a: fc.Arbitrary<unknown>) =>
  a.map((v) =>
    Object.fromEntries(
      Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => [k, String(x)])
    )
  )

const empty = fc.constant<Record<string, string>>({})

const payloadKind = (encoding: HttpApiSchema.Encoding, ast: SchemaAST.AST): PayloadKind =>
  HttpApiSchema.getMultipartStream(ast) !== undefined || HttpApiSchema.getMultipart(ast) !== undefined
    ? "multipart"
    : encoding.kind === "Json"
    ? "json"
    : "binary"

const fieldNames = (ast: SchemaAST.AST): Array<string> => {
  try {
    return SchemaAST.getPropertySignatures(SchemaAST.encodedAST(ast)).map((p) => String(p.name))
  } catch {
    return []
  }
}

const fileFieldNames = (ast: SchemaAST.AST): Array<string> => {
  try {
    return SchemaAST.getPropertySignatures(ast).filter((p) => p.type._tag === "UnknownKeyword").map((p) => String(p.name))
  } catch {
    return []
  }
}

/** Every endpoint of the contract, in the contract's order. */
export const endpoints: ReadonlyArray<Endpoint> = (() => {
  const found: Array<Endpoint> = []
  HttpApi.reflect(Api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, group, middleware, payloads }) => {
      const hasBody = endpoint.method !== "GET" && endpoint.method !== "HEAD" && endpoint.method !== "OPTIONS"
      const kinds = hasBody
        ? [...payloads].map(([contentType, { ast, encoding }]) => ({ kind: payloadKind(encoding, ast), contentType }))
        : []
      const ofKind = (kind: PayloadKind) =>
        hasBody ? [...payloads.values()].find(({ ast, encoding }) => payloadKind(encoding, ast) === kind) : undefined
      const jsonAst = ofKind("json")
      const formAst = ofKind("multipart")
      found.push({
        id: `${group.identifier}.${endpoint.name}`,
        method: endpoint.method,
        path: endpoint.path,
        paramNames: endpoint.path.split("/").filter((s) => s.startsWith(":")).map((s) => s.slice(1)),
        payloads: kinds,
        hasMiddleware: middleware.size > 0,
        pathParams: Option.match(endpoint.pathSchema, {
          onNone: () => empty,
          onSome: (s) => asRecord(encodedArbitrary(s as unknown as AnySchema))
        }),
        urlParams: Option.match(endpoint.urlParamsSchema, {
          onNone: () => empty,
          onSome: (s) => asRecord(encodedArbitrary(s as unknown as AnySchema))
        }),
        json: jsonAst === undefined ? undefined : encodedArbitrary(Schema.make(jsonAst.ast) as AnySchema),
        jsonKeys: jsonAst === undefined ? [] : fieldNames(jsonAst.ast),
        fileFields: formAst === undefined ? [] : fileFieldNames(formAst.ast),
        form: formAst === undefined
          ? undefined
          : (encodedArbitrary(Schema.make(formAst.ast) as AnySchema) as fc.Arbitrary<Record<string, unknown>>)
      })
    }
  })
  return found
})()

/** Fills a path template with already percent-encoded segments. */
export const fillPath = (endpoint: Endpoint, segments: Readonly<Record<string, string>>) =>
  endpoint.path.split("/").map((s) => (s.startsWith(":") ? segments[s.slice(1)] ?? "x" : s)).join("/")

export const queryString = (params: Readonly<Record<string, string>>) => {
  const q = new URLSearchParams(params).toString()
  return q === "" ? "" : `?${q}`
}
