/**
 * `/api/v1/openapi.json` and `/docs`, generated from the contract. The docs page loads the Scalar
 * reference that `@effect/platform` already ships (served from `/docs/scalar.js`, so nothing is
 * fetched from a CDN and the page works offline).
 */
import { OpenApi } from "@effect/platform"
import { createRequire } from "node:module"
import * as path from "node:path"
import { Api } from "../domain/Api.ts"

export const OPENAPI_PATH = "/api/v1/openapi.json"
export const DOCS_PATH = "/docs"
export const DOCS_SCRIPT_PATH = "/docs/scalar.js"

/**
 * The OpenAPI document as served. Everything in it — info, servers, tags, summaries, security,
 * error responses — comes from the contract's annotations (see Api.ts), so the typed client, the
 * docs page and the validators in test/openapi.test.ts all see the same document.
 */
export const openApiSpec = (): OpenApi.OpenAPISpec => OpenApi.fromApi(Api)

let openApiJson: string | undefined
export const openApiDocument = (): string => {
  openApiJson ??= JSON.stringify(openApiSpec())
  return openApiJson
}

export const docsHtml = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Aperture API</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <script id="api-reference" data-url="${OPENAPI_PATH}"></script>
    <script src="${DOCS_SCRIPT_PATH}"></script>
  </body>
</html>`

let scalar: string | undefined
/** The Scalar bundle inside @effect/platform (not in its export map, so loaded by file path). */
export const docsScript = (): string => {
  if (scalar === undefined) {
    const require = createRequire(import.meta.url)
    const entry = require.resolve("@effect/platform")
    scalar = (require(path.join(path.dirname(entry), "internal", "httpApiScalar.js")) as { javascript: string }).javascript
  }
  return scalar
}

export interface StaticAsset {
  readonly contentType: string
  readonly cacheControl: string
  readonly body: () => string
}

/** The documentation routes every transport serves besides the contract's endpoints. */
export const docAssets: Readonly<Record<string, StaticAsset>> = {
  [OPENAPI_PATH]: { contentType: "application/json", cacheControl: "no-cache", body: openApiDocument },
  [DOCS_PATH]: { contentType: "text/html; charset=utf-8", cacheControl: "no-cache", body: () => docsHtml },
  [DOCS_SCRIPT_PATH]: { contentType: "text/javascript; charset=utf-8", cacheControl: "public, max-age=86400", body: docsScript }
}
