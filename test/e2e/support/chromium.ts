/**
 * What every browser test file sets up around its app: the widgets built and one Chromium for the
 * file (closed after it, printing what the pages' consoles complained about), and `run` for a step
 * that talks to the page against the app's base URL.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import { Effect } from "effect"
import type { Browser } from "playwright-core"
import { build } from "../../../web-components/build.ts"
import { baseUrl } from "../../support/app.ts"
import { launchChromium } from "./browser.ts"

export const useChromium = () => {
  let browser: Browser | undefined
  const problems: Array<string> = []
  beforeAll(async () => {
    await build()
    browser = await launchChromium()
  }, 120_000)
  afterAll(async () => {
    if (problems.length > 0) console.log(problems.join("\n"))
    await browser?.close()
  })
  return {
    problems,
    get browser(): Browser {
      if (browser === undefined) throw new Error("Chromium is not running yet (used outside a test?)")
      return browser
    }
  }
}

/** A promise-returning step against the running app's base URL, as an Effect. */
export const run = <A>(f: (base: string) => Promise<A>) => Effect.flatMap(baseUrl, (base) => Effect.promise(() => f(base)))
