/**
 * Folder boundaries (ARCHITECTURE.md, Layout), checked on every test run so they cannot erode.
 * Every import of `src/**` and `web-components/**` is read with the TypeScript parser — static,
 * `import type`, `export … from`, dynamic `import()` and `import("…").T` types alike, since a
 * type-only import couples folders as much as any other — and each one that a rule below does not
 * allow is listed with its file and line.
 *
 * Who may import whom (a folder may always import itself):
 *
 * - `domain` — nothing of ours; of packages only `effect` and `@effect/platform` (browser-safe).
 * - `config` — `domain`. `observability` — `domain`, `config`; `observability/Probes.ts` also the
 *   three connection modules it pings (`db/Database.ts`, `redis/Redis.ts`, `streams/Nats.ts`),
 *   which import nothing above `config`. Everything may import `config` and `observability`,
 *   except `observability/RequestContext.ts` (the HTTP request and its response headers): only
 *   `http` and `observability` see it — use-cases return decisions as data, routes set headers.
 * - Infrastructure, lowest first: `db` and `redis` — `domain`, `config`, `observability`;
 *   `streams` — those and `db` (the outbox relay reads the outbox); `media` — the same base, and
 *   `media/MediaWorker.ts` also `db` and `streams` (it marks posts and publishes their events). The
 *   stores, the Sharp pipeline, keys and sniffing stay leaves.
 * - `actors` — the base and all infrastructure (`db`, `redis`, `streams`, `media`).
 * - `social` — the same, and of `actors` only the runtime's port `actors/runtime/Actors.ts`
 *   (actor protocols live in `domain`).
 * - `http` — the base, `social` and `actors`. Nobody else imports `http`.
 * - `App.ts` and `main.ts` are the composition roots: they may import anything in `src`.
 * - `web-components` — of `src`, only `domain`.
 * - Nothing in `src` imports `test/` or `bench/`; tests beside code (`src/**\/*.test.ts`) follow
 *   their folder's rule for our modules (packages are free: a test never reaches a browser), and
 *   whatever needs the test harness lives in `test/`.
 * - A folder of `src` that is not in the table is itself a violation: give it a rule first.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** A folder of `src` (`"db"`), or one file (`"src/db/Database.ts"`). */
type Target = string

const BASE: ReadonlyArray<Target> = ["domain", "config", "observability"]
const INFRA: ReadonlyArray<Target> = ["db", "redis", "streams", "media"]

/** What each folder of `src` may import besides itself. */
export const FOLDERS: Readonly<Record<string, ReadonlyArray<Target>>> = {
  domain: [],
  config: ["domain"],
  observability: ["domain", "config"],
  db: BASE,
  redis: BASE,
  streams: [...BASE, "db"],
  media: BASE,
  actors: [...BASE, ...INFRA],
  social: [...BASE, ...INFRA, "src/actors/runtime/Actors.ts"],
  http: [...BASE, "social", "actors"]
}

/** Single files that may import more than their folder. */
export const FILES: Readonly<Record<string, ReadonlyArray<Target>>> = {
  "src/observability/Probes.ts": ["src/db/Database.ts", "src/redis/Redis.ts", "src/streams/Nats.ts"],
  "src/media/MediaWorker.ts": ["db", "streams"]
}

/** Files inside an importable folder that only these folders may import. */
export const RESERVED: Readonly<Record<string, ReadonlyArray<string>>> = {
  "src/observability/RequestContext.ts": ["http", "observability"]
}

const ROOTS = new Set(["src/App.ts", "src/main.ts"])
const DOMAIN_PACKAGES = /^(effect|@effect\/platform)(\/[\w-]+)?$/

export interface Import {
  readonly specifier: string
  readonly line: number
}

/** Every module specifier a file names, with its line (1-based). */
export const importsOf = (file: string, text: string): Array<Import> => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: Array<Import> = []
  const add = (node: ts.Node, literal: ts.Node | undefined) => {
    if (literal !== undefined && ts.isStringLiteralLike(literal)) {
      found.push({ specifier: literal.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 })
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier)
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal)
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) add(node, node.arguments[0])
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** `src/db/Graph.ts` → `"db"`; the composition roots and anything outside `src` → undefined. */
const folderOf = (rel: string) => {
  const m = /^src\/([^/]+)\//.exec(rel)
  return m === null ? undefined : m[1]
}

const matches = (target: Target, rel: string) => (target.includes("/") ? rel === target : folderOf(rel) === target)

const describeTarget = (rel: string) => folderOf(rel) ?? (rel.startsWith("src/") ? rel : rel.split("/")[0]!)

export interface Violation {
  readonly file: string
  readonly line: number
  readonly specifier: string
  readonly reason: string
}

/** The violations among `files` (paths relative to the repository root, `/`-separated). */
export const check = (files: ReadonlyArray<{ readonly path: string; readonly text: string }>): Array<Violation> => {
  const violations: Array<Violation> = []
  for (const { path: file, text } of files) {
    const folder = folderOf(file)
    const isRoot = ROOTS.has(file)
    const inWebComponents = file.startsWith("web-components/")
    const isTest = file.endsWith(".test.ts")
    if (!isRoot && !inWebComponents && (folder === undefined || !(folder in FOLDERS))) {
      violations.push({ file, line: 1, specifier: "", reason: `no boundary rule for ${folder === undefined ? file : `src/${folder}`}: add it to test/boundaries.test.ts` })
      continue
    }
    for (const { line, specifier } of importsOf(file, text)) {
      const fail = (reason: string) => violations.push({ file, line, specifier, reason })
      if (!specifier.startsWith(".")) {
        if (folder === "domain" && !isTest && !DOMAIN_PACKAGES.test(specifier)) fail("domain is browser-safe: only `effect` and `@effect/platform`")
        continue
      }
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier))
      if (target.startsWith("test/") || target.startsWith("bench/")) {
        fail(`${isTest ? "a test beside code" : "source"} must not import ${target.split("/")[0]}/: move what it needs beside it, or the test into test/`)
        continue
      }
      if (inWebComponents) {
        if (target.startsWith("src/") && folderOf(target) !== "domain") fail("web-components may import only src/domain")
        continue
      }
      if (isRoot || !target.startsWith("src/")) continue
      const targetFolder = folderOf(target)
      const reserved = RESERVED[target]
      if (reserved !== undefined && !reserved.includes(folder!)) {
        fail(`only ${reserved.join(" and ")} may import ${target}`)
        continue
      }
      if (targetFolder === folder) continue
      const allowed = [...FOLDERS[folder!]!, ...(FILES[file] ?? [])]
      if (!allowed.some((t) => matches(t, target))) {
        fail(`${folder} may not import ${describeTarget(target)} (allowed: ${allowed.length === 0 ? "nothing of ours" : allowed.join(", ")})`)
      }
    }
  }
  return violations
}

const sourcesUnder = (dir: string): Array<string> =>
  fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourcesUnder(rel)
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [rel] : []
  })

const format = (v: Violation) => `${v.file}:${v.line} imports ${JSON.stringify(v.specifier)}: ${v.reason}`

describe("folder boundaries", () => {
  it("every import in src/ and web-components/ keeps to the rules", () => {
    const files = [...sourcesUnder("src"), ...sourcesUnder("web-components")].map((p) => ({
      path: p,
      text: fs.readFileSync(path.join(ROOT, p), "utf8")
    }))
    // a walk that found nothing would pass: make sure it read the tree
    assert.isAbove(files.filter((f) => f.path.startsWith("src/")).length, 80)
    assert.isAbove(files.filter((f) => f.path.startsWith("web-components/")).length, 10)
    const violations = check(files)
    assert.strictEqual(violations.length, 0, `\n${violations.map(format).join("\n")}\n`)
  })

  it("finds every form of import and names file and line", () => {
    const violations = check([
      {
        path: "src/domain/Bad.ts",
        text: [
          `import * as fs from "node:fs"`,
          `import type { GraphRepo } from "../db/Graph.ts"`,
          `import { Schema } from "effect"`,
          `export { Api } from "./Api.ts"`
        ].join("\n")
      },
      {
        path: "src/social/Bad.ts",
        text: [
          `import { Auth } from "../http/Auth.ts"`,
          `import { TimelineKind } from "../actors/timeline/Timeline.ts"`,
          `import { Actors } from "../actors/runtime/Actors.ts"`,
          `import { addResponseHeader } from "../observability/RequestContext.ts"`,
          `type S = import("../http/Handlers.ts").HandlerServices`,
          `const later = () => import("../http/Server.ts")`
        ].join("\n")
      },
      { path: "src/http/Bad.ts", text: `import { Live } from "../streams/Live.ts"\nexport * from "../db/Posts.ts"` },
      { path: "src/redis/Bad.test.ts", text: `import { privateRedis } from "../../test/support/servers.ts"` },
      { path: "src/domain/Fine.test.ts", text: `import { it } from "@effect/vitest"\nimport { Schema } from "./Api.ts"` },
      { path: "src/media/Bad.ts", text: `import { PostsRepo } from "../db/Posts.ts"` },
      { path: "src/media/MediaWorker.ts", text: `import { PostsRepo } from "../db/Posts.ts"` },
      { path: "src/extra/New.ts", text: `` },
      { path: "web-components/x/x.ts", text: `import type { Post } from "../../src/domain/Posts.ts"\nimport { Social } from "../../src/social/Social.ts"` },
      { path: "src/App.ts", text: `import * as Server from "./http/Server.ts"` }
    ])
    assert.deepStrictEqual(violations.map((v) => `${v.file}:${v.line}`), [
      "src/domain/Bad.ts:1",
      "src/domain/Bad.ts:2",
      "src/social/Bad.ts:1",
      "src/social/Bad.ts:2",
      "src/social/Bad.ts:4",
      "src/social/Bad.ts:5",
      "src/social/Bad.ts:6",
      "src/http/Bad.ts:1",
      "src/http/Bad.ts:2",
      "src/redis/Bad.test.ts:1",
      "src/media/Bad.ts:1",
      "src/extra/New.ts:1",
      "web-components/x/x.ts:2"
    ])
  })
})
