/**
 * Well-formed requests for any endpoint of the contract, from its Schemas: the starting point that
 * the hostile classes mutate. Path parameters are sometimes the fixtures (the fuzz accounts, the
 * fixture post) so handlers get past "not found"; a share of requests carries the session.
 */
import fc from "fast-check"
import sharp from "sharp"
import { type Endpoint, endpoints, fillPath, queryString } from "./contract.ts"

export { endpoints }
import type { Auth, RequestSpec } from "./spec.ts"

/** The two accounts the runner signs up before fuzzing; the session belongs to the first. */
export const SELF = "fuzz_self"
export const OTHER = "fuzz_other"
export const PASSWORD = "correct horse battery staple"

/** A small photo with noise in it (~50 KB), so an upload cut at a random byte is cut inside its pixels. */
export const photo = await sharp({
  create: { width: 128, height: 128, channels: 3, background: { r: 40, g: 90, b: 160 }, noise: { type: "gaussian", mean: 120, sigma: 40 } }
}).png().toBuffer()

/** The session on about two requests in three (bearer or cookie), a bogus token or nothing on the rest. */
export const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 10, arbitrary: fc.constant("bearer" as const) },
  { weight: 3, arbitrary: fc.constant("cookie" as const) },
  { weight: 5, arbitrary: fc.constant("none" as const) },
  { weight: 2, arbitrary: fc.constant("bogus" as const) }
)

/** Logging out would end the fuzz session for every later case: it only ever gets a bogus token. */
export const authFor = (endpoint: Endpoint, a: Auth): Auth =>
  endpoint.id === "auth.logout" && (a === "bearer" || a === "cookie") ? "bogus" : a

export const BOUNDARY = "----aperture-fuzz-7MA4YWxkTrZu0gW"

export interface Part {
  readonly name: string
  readonly filename?: string
  readonly type?: string
  readonly data: Buffer | string
}

export const multipart = (boundary: string, parts: ReadonlyArray<Part>, close = true) =>
  Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${p.name}"` +
          (p.filename === undefined ? "" : `; filename="${p.filename}"`) + "\r\n" +
          (p.type === undefined ? "" : `content-type: ${p.type}\r\n`) + "\r\n",
        "utf8"
      ),
      typeof p.data === "string" ? Buffer.from(p.data, "utf8") : p.data,
      Buffer.from("\r\n")
    ]),
    Buffer.from(close ? `--${boundary}--\r\n` : "")
  ])

/** The form's fields as parts: the photo in the file fields, the rest as text. */
export const formParts = (endpoint: Endpoint, form: Record<string, unknown>): Array<Part> => [
  ...endpoint.fileFields.map((name) => ({ name, filename: "photo.png", type: "image/png", data: photo })),
  ...Object.entries(form).filter(([k, v]) => v !== undefined && !endpoint.fileFields.includes(k)).map(([name, v]) => ({
    name,
    data: typeof v === "string" ? v : JSON.stringify(v)
  }))
]

/** A path parameter's value: generated from its Schema, or a fixture that exists. */
const paramValue = (endpoint: Endpoint, name: string, generated: string) => {
  if (name === "username") return fc.oneof({ weight: 3, arbitrary: fc.constant(generated) }, fc.constantFrom(SELF, OTHER))
  // deleting the fixture post would leave every later case a 404
  if (name === "id" && endpoint.path.startsWith("/api/v1/posts/") && endpoint.id !== "posts.remove") {
    return fc.oneof({ weight: 3, arbitrary: fc.constant(generated) }, fc.constant("$POST"))
  }
  return fc.constant(generated)
}

export const encodeSegment = (value: string) => (value === "$POST" ? value : encodeURIComponent(value))

export interface ValidInput {
  readonly endpoint: Endpoint
  /** Path parameters, decoded. */
  readonly params: Record<string, string>
  readonly query: Record<string, string>
  readonly json: unknown
  readonly form: Record<string, unknown> | undefined
  /** For an endpoint that takes JSON and a form (POST /posts): which one is sent. */
  readonly useForm: boolean
  readonly auth: Auth
}

/** Inputs of one endpoint that its Schemas accept. */
export const validInput = (endpoint: Endpoint): fc.Arbitrary<ValidInput> =>
  fc.record({
    params: endpoint.pathParams.chain((p) =>
      endpoint.paramNames.length === 0
        ? fc.constant(p)
        : fc.tuple(...endpoint.paramNames.map((n) => paramValue(endpoint, n, p[n] ?? "x"))).map((vs) =>
          Object.fromEntries(endpoint.paramNames.map((n, i) => [n, vs[i]!]))
        )
    ),
    query: endpoint.urlParams,
    json: endpoint.json ?? fc.constant(undefined),
    form: endpoint.form ?? fc.constant(undefined),
    useForm: fc.boolean(),
    auth
  }).map((r) => ({ ...r, endpoint, auth: authFor(endpoint, r.auth) }))

export const targetOf = (input: Pick<ValidInput, "endpoint" | "params" | "query">, segments?: Record<string, string>) =>
  fillPath(
    input.endpoint,
    segments ?? Object.fromEntries(Object.entries(input.params).map(([k, v]) => [k, encodeSegment(v)]))
  ) + queryString(input.query)

const binaryBody = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) & 0xff))

/** The body a well-behaved client sends: JSON where the endpoint takes it, else a form, else bytes. */
export const bodyOf = (input: ValidInput): Pick<RequestSpec, "headers" | "body"> => {
  const kinds = input.endpoint.payloads
  if (kinds.length === 0) return { headers: [] }
  if (input.endpoint.json && !(input.useForm && input.form !== undefined)) {
    return { headers: [["content-type", "application/json"]], body: Buffer.from(JSON.stringify(input.json ?? {}), "utf8") }
  }
  if (input.form !== undefined) {
    return {
      headers: [["content-type", `multipart/form-data; boundary=${BOUNDARY}`]],
      body: multipart(BOUNDARY, formParts(input.endpoint, input.form))
    }
  }
  return { headers: [["content-type", kinds[0]!.contentType]], body: binaryBody }
}

export const validRequest = (input: ValidInput): RequestSpec => ({
  method: input.endpoint.method,
  target: targetOf(input),
  auth: input.auth,
  ...bodyOf(input)
})

/** An endpoint from a list, then a valid input for it. */
export const anyInput = (list: ReadonlyArray<Endpoint> = endpoints) =>
  fc.constantFrom(...list).chain(validInput)

export const withParams = endpoints.filter((e) => e.paramNames.length > 0)
export const withJson = endpoints.filter((e) => e.json !== undefined)
export const withBody = endpoints.filter((e) => e.payloads.length > 0)
export const withForm = endpoints.filter((e) => e.form !== undefined)
export const gets = endpoints.filter((e) => e.method === "GET")
