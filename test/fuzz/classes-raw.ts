/**
 * Case classes at the socket level: slow clients, chunked bodies, lying lengths, pipelining with
 * garbage, and signed-in uploads that the client abandons at a random byte.
 */
import fc from "fast-check"
import type { FuzzClass } from "./classes-http.ts"
import * as H from "./hostile.ts"
import { anyInput, BOUNDARY, endpoints, formParts, gets, multipart, validRequest, withForm, withJson } from "./requests.ts"
import type { RequestSpec, Spec } from "./spec.ts"

const jsonPost = anyInput(withJson).map((input) => ({ input, request: validRequest(input) }))

const spec = (cls: string, endpoint: string, requests: ReadonlyArray<RequestSpec>, rest: Partial<Spec> = {}): Spec => ({
  class: cls,
  endpoint,
  requests,
  delivery: { kind: "whole" },
  expect: "answer",
  ...rest
})

/** A chunked body written by hand, so it can be wrong. */
const chunkedBody = (body: Buffer, sizes: ReadonlyArray<number>, flaw: string) => {
  const out: Array<string | Buffer> = []
  let at = 0
  let i = 0
  while (at < body.length) {
    const n = Math.max(1, Math.min(sizes[i++ % sizes.length]!, body.length - at))
    const size = flaw === "bad-size" && i === 1 ? "zz" : flaw === "overflow-size" && i === 1 ? "fffffffffffffffffff" : n.toString(16)
    out.push(`${size}${flaw === "extension" ? ";ext=\"1\"" : ""}\r\n`, body.subarray(at, at + n), flaw === "missing-crlf" && i === 1 ? "" : "\r\n")
    at += n
  }
  if (flaw !== "no-last-chunk") out.push(flaw === "trailer" ? "0\r\nx-trailer: 1\r\n\r\n" : "0\r\n\r\n")
  return Buffer.concat(out.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p)))
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 })

export const rawClasses: ReadonlyArray<FuzzClass> = [
  {
    name: "slow-headers",
    weight: 0.15,
    concurrent: true,
    cases: () =>
      fc.tuple(
        anyInput(gets),
        fc.oneof(fc.constant<"trickle">("trickle"), fc.integer({ min: 1, max: 60 }), fc.constant(-2)),
        fc.integer({ min: 200, max: 1000 })
      ).map(([input, how, waitMs]) =>
        spec("slow-headers", input.endpoint.id, [validRequest(input)], {
          // a head without its final blank line that grows forever; or one stalled at a byte
          delivery: how === "trickle"
            ? { kind: "trickle", at: { fromEnd: 2 }, waitMs }
            : { kind: "stall", at: how < 0 ? { fromEnd: -how } : { bytes: how } },
          expect: "close-in-time"
        })
      )
  },
  {
    name: "slow-body",
    weight: 0.15,
    concurrent: true,
    cases: () =>
      fc.tuple(jsonPost, fc.boolean(), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 20, max: 300 })).map(
        ([{ input, request }, complete, size, wait]) => {
          const bodyLength = request.body?.length ?? 0
          if (!complete) {
            return spec("slow-body", input.endpoint.id, [request], {
              delivery: { kind: "stall", at: { fromEnd: Math.max(1, Math.ceil(bodyLength / 2)) } },
              expect: "close-in-time"
            })
          }
          // slow but complete within ~3 s: it must be answered
          const pieces = Math.ceil((bodyLength + 200) / size)
          return spec("slow-body", input.endpoint.id, [request], {
            delivery: { kind: "pieces", size, waitMs: Math.max(1, Math.min(wait, Math.floor(3000 / pieces))) }
          })
        }
      )
  },
  {
    name: "chunked",
    weight: 0.5,
    cases: () =>
      fc.tuple(
        jsonPost,
        chunkSizes,
        fc.constantFrom("none", "none", "extension", "trailer", "bad-size", "overflow-size", "missing-crlf", "no-last-chunk", "on-get", "te-variant"),
        fc.constantFrom("gzip, chunked", "chunked, identity", "Chunked", " chunked", "chunked\u0000", "identity")
      ).map(([{ input, request }, sizes, flaw, te]) => {
        const body = chunkedBody(request.body ?? Buffer.from("{}"), sizes, flaw === "on-get" || flaw === "te-variant" ? "none" : flaw)
        const chunked: RequestSpec = {
          ...request,
          ...(flaw === "on-get" ? { method: "GET", target: "/api/v1/auth/me" } : {}),
          headers: [...request.headers, ["transfer-encoding", flaw === "te-variant" ? te : "chunked"]],
          body,
          framing: "none"
        }
        return spec("chunked", input.endpoint.id, [chunked], {
          ...(flaw === "no-last-chunk" ? { delivery: { kind: "cut", at: { fraction: 1 }, how: "end", waitMs: 50 } } : {}),
          expect: flaw === "none" ? "answer" : "answer-or-close",
          malformed: !["none", "extension", "trailer", "no-last-chunk"].includes(flaw)
        })
      })
  },
  {
    name: "lying-length",
    weight: 0.5,
    cases: () =>
      fc.tuple(jsonPost, fc.constantFrom("no-length", "zero", "shorter", "longer-then-fin", "longer-then-stall"), fc.integer({ min: 1, max: 64 })).map(
        ([{ input, request }, kind, k]) => {
          const body = request.body ?? Buffer.from("{}")
          const declared = kind === "no-length" ? undefined : kind === "zero" ? 0 : kind === "shorter" ? Math.max(0, body.length - k) : body.length + k
          const lying: RequestSpec = {
            ...request,
            headers: [...request.headers, ...(declared === undefined ? [] : [["content-length", String(declared)] as const])],
            framing: "none"
          }
          if (kind === "longer-then-stall") return spec("lying-length", input.endpoint.id, [lying], { expect: "close-in-time" })
          return spec("lying-length", input.endpoint.id, [lying], {
            ...(kind === "longer-then-fin" ? { delivery: { kind: "cut", at: { fraction: 1 }, how: "end", waitMs: 50 } } : {}),
            malformed: kind !== "longer-then-fin",
            // what is left of the body reads as the next request: it may get its own 400, or a close
            minReplies: kind === "longer-then-fin" ? 0 : 1,
            maxReplies: kind === "longer-then-fin" ? 1 : 2,
            expect: "answer-or-close"
          })
        }
      )
  },
  {
    name: "pipelined",
    weight: 0.5,
    cases: () =>
      fc.tuple(fc.array(anyInput(endpoints.filter((e) => e.form === undefined)), { minLength: 2, maxLength: 6 }), fc.option(H.garbage, { nil: undefined }))
        .map(([inputs, junk]) =>
          spec("pipelined", inputs.map((i) => i.endpoint.id).join(" + "), inputs.map(validRequest), {
            ...(junk === undefined ? {} : { garbage: junk, malformed: true }),
            // uWS closes a connection whose next request arrives while a response is pending (by
            // design: it does not pipeline behind asynchronous handlers), so a close is a fair answer
            minReplies: inputs.length,
            expect: "answer-or-close"
          })
        )
  },
  {
    name: "aborted-upload",
    weight: 1,
    settleMs: 150,
    cases: () =>
      fc.tuple(
        anyInput(withForm),
        fc.oneof(
          { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
          { weight: 2, arbitrary: fc.constant(1) },
          { weight: 1, arbitrary: fc.constant(-1) }
        ),
        fc.constantFrom("end", "destroy"),
        fc.integer({ min: 0, max: 30 })
      ).map(([input, fraction, how, waitMs]) => {
        const form = { ...input.form, caption: "aborted upload" }
        const request: RequestSpec = {
          method: input.endpoint.method,
          target: input.endpoint.path,
          auth: "bearer",
          headers: [["content-type", `multipart/form-data; boundary=${BOUNDARY}`]],
          body: multipart(BOUNDARY, formParts(input.endpoint, form))
        }
        // a share of uploads is completed and awaited, so the route is seen to work at all
        if (fraction < 0) return spec("aborted-upload", input.endpoint.id, [request])
        return spec("aborted-upload", input.endpoint.id, [request], {
          delivery: { kind: "cut", at: { fraction }, how, waitMs },
          expect: "survive"
        })
      })
  }
]
