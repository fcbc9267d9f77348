/**
 * The OpenAPI document, exactly as `/api/v1/openapi.json` serves it, passes two standard checks —
 * the OpenAPI 3.1 JSON Schema (`@seriousme/openapi-schema-validator`) and Redocly's linter with the
 * repository's `redocly.yaml` — and says what clients rely on: a summary for every operation, a
 * description for every tag, which endpoints need a session, and no 401 where none can be answered.
 */
import { HttpApi } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Validator } from "@seriousme/openapi-schema-validator"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Api } from "../src/domain/Api.ts"
import { Authenticated } from "../src/domain/Security.ts"
import { openApiDocument } from "../src/http/Docs.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const redoclyCli = path.join(root, "node_modules", "@redocly", "cli", "bin", "cli.js")

/** The document as the route answers it: parsed from the served JSON, not the object it came from. */
const spec = JSON.parse(openApiDocument()) as Record<string, any>

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
const operations = Object.entries<Record<string, any>>(spec.paths).flatMap(([p, item]) =>
  Object.entries(item).filter(([m]) => methods.includes(m)).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op }))
)

/**
 * The endpoints that need a session: each handler starts with `requiredViewer` / `auth.required`.
 * The pipeline refuses these with 401 before the handler runs, so this list is reviewed by hand.
 */
const secured = [
  "auth.me",
  "auth.wsTicket",
  "auth.logoutOthers",
  "auth.changePassword",
  "users.update",
  "users.blocks",
  "graph.follow",
  "graph.unfollow",
  "graph.requests",
  "graph.approve",
  "graph.deny",
  "graph.block",
  "graph.unblock",
  "posts.create",
  "posts.remove",
  "posts.update",
  "posts.saved",
  "stories.muted",
  "embedTokens.create",
  "embedTokens.list",
  "embedTokens.revoke",
  "posts.upload",
  "posts.avatar",
  "posts.requeue",
  "admin.actors",
  "admin.actor",
  "feed.home",
  "engagement.like",
  "engagement.unlike",
  "engagement.save",
  "engagement.unsave",
  "engagement.comment",
  "engagement.deleteComment",
  "notifications.list",
  "notifications.read",
  "conversations.list",
  "conversations.requests",
  "conversations.unread",
  "conversations.create",
  "conversations.get",
  "conversations.update",
  "conversations.messages",
  "conversations.send",
  "conversations.read",
  "conversations.deleteMessage",
  "conversations.react",
  "conversations.unreact",
  "conversations.addMembers",
  "conversations.removeMember",
  "conversations.leave",
  "conversations.accept",
  "conversations.decline",
  "stories.create",
  "stories.tray",
  "stories.archive",
  "stories.get",
  "stories.remove",
  "stories.view",
  "stories.viewers",
  "stories.reply",
  "stories.userStories",
  "stories.closeFriends",
  "stories.addCloseFriend",
  "stories.removeCloseFriend",
  "stories.hidden",
  "stories.hide",
  "stories.unhide",
  "stories.mute",
  "stories.unmute",
  "admin.deadLetters",
  "admin.replayDeadLetter"
]

/** Every `$id` in the document, with how often it occurs. */
const ids = (value: unknown, found = new Map<string, number>()) => {
  if (Array.isArray(value)) value.forEach((v) => ids(v, found))
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$id" && typeof v === "string") found.set(v, (found.get(v) ?? 0) + 1)
      else ids(v, found)
    }
  }
  return found
}

const run = (file: string, args: ReadonlyArray<string>) =>
  Effect.async<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = execFile(process.execPath, [file, ...args], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      // no telemetry, no update check: the linter runs offline
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" }
    }, (error, stdout, stderr) => {
      resume(Effect.succeed({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }))
    })
    return Effect.sync(() => child.kill())
  })

describe("the OpenAPI document", () => {
  it.effect("is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)", () =>
    Effect.gen(function*() {
      const result = yield* Effect.promise(() => new Validator().validate(spec))
      assert.isTrue(result.valid, JSON.stringify(result.errors, null, 2))
    }))

  it.effect("passes `redocly lint` with the repository's rules, without errors or warnings", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(path.join(tmpdir(), "aperture-openapi-"))),
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
      )
      const file = path.join(dir, "openapi.json")
      yield* Effect.promise(() => writeFile(file, JSON.stringify(spec, null, 2)))
      const lint = yield* run(redoclyCli, ["lint", "--format=json", `--config=${path.join(root, "redocly.yaml")}`, file])
      const report = yield* Effect.try(() => JSON.parse(lint.stdout) as { totals: Record<string, number>; problems: Array<any> }).pipe(
        Effect.orElse(() => Effect.dieMessage(`redocly printed no report (exit ${lint.code}): ${lint.stderr.slice(-2000)}`))
      )
      const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location?.[0]?.pointer ?? ""}: ${p.message}`)
      assert.deepStrictEqual(problems, [])
      assert.strictEqual(report.totals.errors, 0)
      assert.strictEqual(lint.code, 0)
    }).pipe(Effect.scoped), 120_000)

  it("has info, servers and no repeated $id", () => {
    assert.strictEqual(spec.openapi, "3.1.0")
    assert.strictEqual(spec.info.title, "Aperture API")
    assert.isNotEmpty(spec.info.version)
    assert.isNotEmpty(spec.info.description)
    assert.isNotEmpty(spec.servers)
    const repeated = [...ids(spec)].filter(([, n]) => n > 1)
    assert.deepStrictEqual(repeated, [])
  })

  it("gives every operation a summary and every tag a description", () => {
    assert.isAbove(operations.length, 40)
    for (const { key, op } of operations) {
      assert.isString(op.summary, `${key} has no summary`)
      assert.isNotEmpty(op.summary.trim(), `${key} has an empty summary`)
    }
    const tags = new Map<string, any>(spec.tags.map((t: any) => [t.name, t]))
    for (const { key, op } of operations) {
      for (const tag of op.tags) assert.isTrue(tags.has(tag), `${key}: tag ${tag} is not declared`)
    }
    for (const [name, tag] of tags) assert.isNotEmpty(tag.description, `tag ${name} has no description`)
  })

  it("declares the session on exactly the endpoints that need one", () => {
    const declared: Array<string> = []
    HttpApi.reflect(Api, {
      onGroup: () => undefined,
      onEndpoint: ({ endpoint, group, middleware }) => {
        if (middleware.has(Authenticated as any)) declared.push(`${group.identifier}.${endpoint.name}`)
      }
    })
    assert.deepStrictEqual([...declared].sort(), [...secured].sort())

    const bySession = [{ bearer: [] }, { cookie: [] }]
    assert.containsAllKeys(spec.components.securitySchemes, ["bearer", "cookie"])
    assert.deepStrictEqual(spec.security, [])
    for (const { key, op } of operations) {
      if (secured.includes(op.operationId)) {
        assert.deepStrictEqual(op.security, bySession, `${key} should list its security`)
        assert.property(op.responses, "401", `${key} should answer 401 without a session`)
      } else if (op.operationId === "ops.metrics") {
        // the operations token (OPS_TOKEN), checked by the handler: 401 without it, 404 where not served
        assert.deepStrictEqual(op.security, [{ opsToken: [] }], key)
        assert.includeMembers(Object.keys(op.responses), ["401", "404"], key)
      } else {
        assert.deepStrictEqual(op.security, [], `${key} is public`)
        // log-in answers 401 for wrong credentials; no other public endpoint answers 401
        if (op.operationId !== "auth.login") assert.notProperty(op.responses, "401", `${key} is public but lists a 401`)
      }
    }
  })

  it("lists on each endpoint only the errors it can answer", () => {
    const op = (method: string, p: string) => spec.paths[p][method]
    assert.deepStrictEqual(Object.keys(op("get", "/healthz").responses), ["200"])
    assert.deepStrictEqual(Object.keys(op("get", "/metrics").responses).sort(), ["200", "401", "404"])
    assert.deepStrictEqual(Object.keys(op("get", "/readyz").responses).sort(), ["200", "503"])
    for (const { key, op } of operations) {
      // the one pipeline answers bad input with the API's BadRequest, never the platform's decode error
      assert.notInclude(JSON.stringify(op.responses), "HttpApiDecodeError", key)
      const takesInput = op.parameters.length > 0 || op.requestBody !== undefined
      if (takesInput) assert.property(op.responses, "400", `${key} takes input but lists no 400`)
      else assert.notProperty(op.responses, "400", `${key} takes no input but lists a 400`)
      if (op.responses["429"] !== undefined) assert.property(op.responses["429"].headers, "Retry-After", key)
    }
  })
})
