/**
 * Case classes about the protocol rather than the payload: huge heads, HEAD on GET routes,
 * Content-Length values that disagree or are not numbers, junk header lines, methods a route does
 * not take (or HTTP does not define).
 */
import fc from "fast-check"
import { type FuzzClass, one } from "./classes-http.ts"
import * as H from "./hostile.ts"
import { anyInput, gets, targetOf, validRequest, withJson } from "./requests.ts"
import type { RequestSpec, Spec } from "./spec.ts"

export const protocolClasses: ReadonlyArray<FuzzClass> = [
  {
    name: "huge-headers",
    weight: 0.5,
    cases: () =>
      fc.tuple(
        anyInput(),
        fc.constantFrom("one-header", "many-headers", "long-path", "long-query", "long-cookie", "long-token"),
        fc.integer({ min: 8 * 1024, max: 256 * 1024 })
      ).map(([input, kind, size]) => {
        const request = validRequest(input)
        const filler = "a".repeat(size)
        const headers: Array<readonly [string, string]> = [...request.headers]
        let target = request.target
        if (kind === "one-header") headers.push(["x-fuzz", filler])
        if (kind === "many-headers") for (let i = 0; i < Math.min(size / 16, 10_000); i++) headers.push([`x-f${i}`, "v"])
        if (kind === "long-path") target = `/api/v1/users/${filler}`
        if (kind === "long-query") target = `${target}${target.includes("?") ? "&" : "?"}cursor=${filler}`
        if (kind === "long-cookie") headers.push(["cookie", `ap_session=${filler}`])
        if (kind === "long-token") headers.push(["authorization", `Bearer ${filler}`])
        return one("huge-headers", input, { ...request, target, headers, auth: kind === "long-token" ? "none" : request.auth })
      })
  },
  {
    name: "head",
    weight: 0.5,
    cases: () =>
      anyInput(gets).map((input): Spec => ({
        class: "head",
        endpoint: input.endpoint.id,
        requests: [validRequest(input), { ...validRequest(input), method: "HEAD" }],
        delivery: { kind: "whole" },
        expect: "same-as-get"
      }))
  },
  {
    name: "content-length",
    weight: 0.5,
    cases: () =>
      fc.tuple(
        anyInput(withJson),
        fc.constantFrom("two-different", "list", "two-same", "with-chunked", "negative", "plus", "hex", "junk", "overflow", "spaces")
      ).map(([input, kind]) => {
        const body = Buffer.from(JSON.stringify(input.json ?? {}))
        const n = body.length
        const smuggled = Buffer.from("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        const lengths: Record<string, ReadonlyArray<string>> = {
          "two-different": [String(n), String(n + smuggled.length)],
          list: [`${n}, ${n + smuggled.length}`],
          "two-same": [String(n), String(n)],
          "with-chunked": [String(n)],
          negative: ["-1"],
          plus: [`+${n}`],
          hex: [`0x${n.toString(16)}`],
          junk: ["abc"],
          overflow: ["99999999999999999999999"],
          spaces: [` ${n} `]
        }
        const request: RequestSpec = {
          method: input.endpoint.method,
          target: targetOf(input),
          auth: input.auth,
          headers: [
            ["content-type", "application/json"],
            ...lengths[kind]!.map((v) => ["content-length", v] as const),
            ...(kind === "with-chunked" ? [["transfer-encoding", "chunked"] as const] : [])
          ],
          body: kind === "two-different" || kind === "list" ? Buffer.concat([body, smuggled]) : body,
          framing: "none"
        }
        return {
          class: "content-length",
          endpoint: input.endpoint.id,
          requests: [request],
          delivery: { kind: "whole" },
          // identical repeats and whitespace around the number are allowed by RFC 9110; the rest is not
          malformed: kind !== "two-same" && kind !== "spaces",
          // two lengths that disagree are a smuggling primitive: they must be refused, not served
          expect: kind === "two-different" || kind === "list" ? "refuse" : "answer-or-close"
        }
      })
  },
  {
    name: "header-junk",
    weight: 0.5,
    cases: () =>
      fc.tuple(anyInput(), H.junkHeaderLine).map(([input, line]): Spec => {
        const request = validRequest(input)
        const i = line.indexOf(":")
        const junk: readonly [string, string] = i < 0 ? [line, ""] : [line.slice(0, i), line.slice(i + 1).trimStart()]
        return { ...one("header-junk", input, { ...request, headers: [...request.headers, junk] }), expect: "answer-or-close", malformed: true }
      })
  },
  {
    name: "wrong-method",
    weight: 0.5,
    cases: () =>
      fc.tuple(anyInput(), fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW", "get", "M-SEARCH", "CONNECT"))
        .map(([input, method]): Spec => ({
          ...one("wrong-method", input, { ...validRequest(input), method }),
          ...(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].includes(method)
            ? { expect: "answer" as const }
            : { expect: "answer-or-close" as const, malformed: true })
        }))
  }
]
