/**
 * Case classes built on the contract: valid requests for every endpoint, and the same requests
 * with one hostile mutation each. Each class is a fast-check arbitrary of `Spec`s.
 */
import fc from "fast-check"
import type { Endpoint } from "./contract.ts"
import * as H from "./hostile.ts"
import {
  anyInput,
  BOUNDARY,
  bodyOf,
  encodeSegment,
  endpoints,
  formParts,
  multipart,
  type Part,
  photo,
  targetOf,
  type ValidInput,
  validRequest,
  withBody,
  withForm,
  withJson,
  withParams
} from "./requests.ts"
import type { RequestSpec, Spec } from "./spec.ts"

export interface Limits {
  readonly jsonBodyBytes: number
  readonly uploadBytes: number
}

export interface FuzzClass {
  readonly name: string
  /** Share of the base number of runs (slow classes run fewer cases). */
  readonly weight: number
  /** The cases mostly wait on timers: run them all at once. */
  readonly concurrent?: boolean
  /** Wait this long after each case before checking that the server is alive (asynchronous crashes). */
  readonly settleMs?: number
  readonly cases: (limits: Limits) => fc.Arbitrary<Spec>
}

export const one = (cls: string, input: ValidInput, request: RequestSpec, expect: Spec["expect"] = "answer"): Spec => ({
  class: cls,
  endpoint: input.endpoint.id,
  requests: [request],
  delivery: { kind: "whole" },
  expect
})

type Json = unknown
type Path = ReadonlyArray<string | number>

const stringLeaves = (v: Json, path: Path = []): Array<Path> => {
  if (typeof v === "string") return [path]
  if (Array.isArray(v)) return v.flatMap((x, i) => stringLeaves(x, [...path, i]))
  if (v !== null && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => stringLeaves(x, [...path, k]))
  return []
}

const getAt = (v: Json, path: Path): Json => path.reduce<Json>((o, k) => (o as any)?.[k], v)

const setAt = (v: Json, path: Path, x: Json): Json => {
  if (path.length === 0) return x
  const [k, ...rest] = path
  const base: any = Array.isArray(v) ? [...v] : v !== null && typeof v === "object" ? { ...v } : {}
  base[k!] = setAt(base[k!], rest, x)
  return base
}

/** The JSON payload with hostile text in one string field (or in every one). */
const hostileJson = (input: ValidInput, mk: (s: string) => fc.Arbitrary<string>): fc.Arbitrary<Json> => {
  const json = input.json ?? {}
  const leaves = stringLeaves(json)
  const targets = leaves.length > 0 ? leaves : input.endpoint.jsonKeys.map((k) => [k])
  if (targets.length === 0) return mk("fuzz").map((x) => setAt(json, ["text"], x))
  return fc.tuple(fc.constantFrom<Path>(...targets), fc.boolean()).chain(([path, every]) => {
    const current = getAt(json, path)
    return mk(typeof current === "string" ? current : "fuzz").map((x) =>
      every ? targets.reduce<Json>((j, p) => setAt(j, p, x), json) : setAt(json, path, x)
    )
  })
}

const jsonRequest = (input: ValidInput, json: Json | string, target = targetOf(input)): RequestSpec => ({
  method: input.endpoint.method,
  target,
  auth: input.auth,
  headers: [["content-type", "application/json"]],
  body: Buffer.from(typeof json === "string" ? json : JSON.stringify(json), "utf8")
})

/** The target with hostile (already encoded) text in one path parameter or one query parameter. */
const hostileTarget = (input: ValidInput, where: "path" | "query", escape: fc.Arbitrary<string>) =>
  escape.chain((bad) => {
    if (where === "path" && input.endpoint.paramNames.length > 0) {
      return fc.constantFrom(...input.endpoint.paramNames).map((name) => {
        const segments = Object.fromEntries(Object.entries(input.params).map(([k, v]) => [k, encodeSegment(v)]))
        segments[name] = (segments[name] === "$POST" ? "" : segments[name] ?? "") + bad
        return targetOf(input, segments)
      })
    }
    const keys = Object.keys(input.query)
    return fc.constantFrom(...(keys.length > 0 ? keys : ["cursor", "q"])).map((key) => {
      const entries = Object.entries({ ...input.query, [key]: "" })
      const q = entries.map(([k, v]) => `${encodeURIComponent(k)}=${k === key ? bad : encodeURIComponent(v)}`).join("&")
      return `${targetOf({ ...input, query: {} })}?${q}`
    })
  })

const locations = (e: Endpoint) => [
  ...(e.paramNames.length > 0 ? ["path" as const] : []),
  "query" as const,
  ...(e.json ? ["json" as const] : []),
  ...(e.form ? ["form" as const] : [])
]

/** Text a database cannot store (NUL, lone surrogates) in a path, query, JSON or form field. */
const badText = (cls: string, escape: fc.Arbitrary<string>, mk: (s: string) => fc.Arbitrary<string>) => () =>
  anyInput(endpoints).chain((input) =>
    fc.constantFrom(...locations(input.endpoint)).chain((where): fc.Arbitrary<Spec> => {
      if (where === "json") return hostileJson(input, mk).map((json) => one(cls, input, jsonRequest(input, json)))
      if (where === "form") {
        return mk("caption").map((text) =>
          one(cls, input, {
            method: input.endpoint.method,
            target: targetOf(input),
            auth: input.auth,
            headers: [["content-type", `multipart/form-data; boundary=${BOUNDARY}`]],
            body: multipart(BOUNDARY, [...formParts(input.endpoint, input.form ?? {}), { name: "caption", data: text }])
          })
        )
      }
      return hostileTarget(input, where, escape).map((target) => one(cls, input, { ...validRequest(input), target }))
    })
  )

export const httpClasses: ReadonlyArray<FuzzClass> = [
  {
    name: "valid",
    weight: 2,
    cases: () => anyInput().map((input) => one("valid", input, validRequest(input)))
  },
  {
    name: "path-encoding",
    weight: 1,
    cases: () =>
      anyInput(withParams).chain((input) =>
        hostileTarget(input, "path", fc.oneof({ weight: 4, arbitrary: H.badPercent }, fc.constantFrom("\u00ff", "caf\u00c3\u00a9", "%25ZZ")))
          .map((target) => one("path-encoding", input, { ...validRequest(input), target }))
      )
  },
  { name: "nul", weight: 1, cases: badText("nul", H.hostileEscape.filter((s) => s.includes("%00")), H.withNul) },
  {
    name: "lone-surrogate",
    weight: 1,
    cases: () =>
      fc.oneof(
        { weight: 3, arbitrary: badText("lone-surrogate", H.hostileEscape.filter((s) => s.includes("%ED")), H.withLoneSurrogate)() },
        // raw bytes of an encoded surrogate (invalid UTF-8) inside a JSON string
        anyInput(withJson).map((input) =>
          one("lone-surrogate", input, {
            ...jsonRequest(input, {}),
            body: Buffer.concat([Buffer.from(`{"${input.endpoint.jsonKeys[0] ?? "text"}":"a`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from("b\"}")])
          })
        )
      )
  },
  {
    name: "deep-json",
    weight: 1,
    cases: () =>
      fc.tuple(anyInput(withJson), H.deepJson).map(([input, deep]) =>
        one("deep-json", input, jsonRequest(input, H.deepJsonText(deep, input.endpoint.jsonKeys[0] ?? "text")))
      )
  },
  {
    name: "content-type",
    weight: 1,
    cases: () =>
      fc.tuple(anyInput(withBody), H.wrongContentType, fc.oneof(fc.constant(undefined), H.junkBody)).map(([input, type, junk]) => {
        const valid = bodyOf(input)
        const spec = one("content-type", input, {
          method: input.endpoint.method,
          target: targetOf(input),
          auth: input.auth,
          headers: type === undefined ? [] : [["content-type", type]],
          body: junk ?? valid.body ?? Buffer.from("{}")
        })
        // a control character makes the header itself invalid: that is header-junk's ground
        return /[\u0000-\u001f]/.test(type ?? "") ? { ...spec, expect: "answer-or-close" as const, malformed: true } : spec
      })
  },
  {
    name: "multipart-boundary",
    weight: 0.5,
    cases: () =>
      fc.tuple(
        anyInput(withForm),
        fc.constantFrom(
          "multipart/form-data",
          "multipart/form-data; boundary=",
          "multipart/form-data; boundary=\"\"",
          `multipart/form-data; boundary=${"b".repeat(200)}`,
          "multipart/form-data; boundary=other",
          "multipart/form-data; boundary=\"unterminated",
          "multipart/form-data;;boundary",
          "multipart/mixed"
        ),
        fc.constantFrom("whole", "truncated", "no-closing", "empty")
      ).map(([input, type, body]) => {
        const full = multipart(BOUNDARY, formParts(input.endpoint, input.form ?? {}), body !== "no-closing")
        return one("multipart-boundary", input, {
          method: input.endpoint.method,
          target: targetOf(input),
          auth: input.auth === "none" ? "bearer" : input.auth,
          headers: [["content-type", type]],
          body: body === "truncated" ? full.subarray(0, Math.floor(full.length / 2)) : body === "empty" ? Buffer.alloc(0) : full
        })
      })
  },
  {
    name: "many-parts",
    weight: 0.25,
    cases: () =>
      fc.tuple(
        anyInput(withForm),
        fc.oneof({ weight: 2, arbitrary: fc.constant(5000) }, fc.integer({ min: 500, max: 8000 })),
        fc.constantFrom("fields", "files", "fields-then-photo")
      ).map(([input, n, kind]) => {
        const parts: Array<Part> = Array.from({ length: n }, (_, i): Part =>
          kind === "files" ? { name: `f${i}`, filename: `${i}.bin`, type: "application/octet-stream", data: "x" } : { name: `f${i}`, data: "v" }
        )
        if (kind === "fields-then-photo") parts.push(...formParts(input.endpoint, input.form ?? {}))
        return one("many-parts", input, {
          method: input.endpoint.method,
          target: targetOf(input),
          auth: "bearer",
          headers: [["content-type", `multipart/form-data; boundary=${BOUNDARY}`]],
          body: multipart(BOUNDARY, parts)
        })
      })
  },
  {
    name: "oversize",
    weight: 0.5,
    cases: (limits) =>
      fc.tuple(
        anyInput(withBody),
        fc.double({ min: 1.01, max: 3, noNaN: true }),
        fc.constantFrom("length", "chunked", "huge-length")
      ).map(([input, factor, framing]) => {
        const isUpload = input.endpoint.json === undefined || input.useForm
        const limit = isUpload ? limits.uploadBytes + 64 * 1024 : limits.jsonBodyBytes
        const size = Math.ceil(limit * factor)
        const valid = bodyOf(input)
        const type = valid.headers.find(([k]) => k === "content-type")?.[1] ?? "application/json"
        const body = type.startsWith("multipart/")
          ? multipart(BOUNDARY, [{ name: "image", filename: "big.png", type: "image/png", data: Buffer.concat([photo, Buffer.alloc(size)]) }])
          : Buffer.from(JSON.stringify({ [input.endpoint.jsonKeys[0] ?? "text"]: "x".repeat(size) }))
        const request: RequestSpec = {
          method: input.endpoint.method,
          target: targetOf(input),
          auth: input.auth,
          headers: [["content-type", type], ...(framing === "huge-length" ? [["content-length", "1000000000000"] as const] : [])],
          body: framing === "huge-length" ? body.subarray(0, 1000) : body,
          framing: framing === "length" ? "length" : framing === "chunked" ? { chunks: [16 * 1024] } : "none"
        }
        return one("oversize", input, request)
      })
  }
]
