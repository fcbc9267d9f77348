/**
 * Inlined into `index.html` (a classic script in the head, run while the app's modules download):
 * asks who is signed in and, on the home page when someone is, for the first feed page, and
 * preloads the first photo at the size its card will choose. The SDK takes these answers instead of
 * asking again (`RestClient.request`), so the first photo no longer waits for the bundle to
 * download and run before the two API round trips and the image even start. Only GETs the app
 * makes anyway; an anonymous visit asks nothing but the session (never a 401 in the console).
 * When the `ap_signed_in` cookie (set with the session, readable, no secret) says someone is
 * signed in, the feed is asked for at once, beside the session, not after its answer.
 */
import type {} from "../sdk/rest.ts"
import { VARIANT_WIDTHS } from "../shared/format.ts"
import { SIGNED_IN_HINT } from "./signed-in-hint.ts"

/** The feed's first page, as `<ap-feed>` asks for it (its default `page-size`). */
export const BOOT_FEED_PATH = "/feed?limit=20"
/** `<ap-post>`'s `sizes` for its photo. */
export const POST_IMAGE_SIZES = "(max-width: 640px) 100vw, 640px"

export interface BootAnswer {
  readonly status: number
  readonly text: string
}

const get = (path: string): Promise<BootAnswer | undefined> =>
  fetch(`/api/v1${path}`, { headers: { accept: "application/json" }, credentials: "same-origin" }).then(
    async (r) => ({ status: r.status, text: await r.text() }),
    () => undefined
  )

const preloadFirstPhoto = (answer: BootAnswer | undefined) => {
  if (answer?.status !== 200) return
  const first = (JSON.parse(answer.text) as { items?: Array<{ status?: string; variants?: Record<string, string> | null }> }).items?.find(
    (p) => p.status === "published" && p.variants
  )
  if (!first?.variants) return
  const link = document.createElement("link")
  link.rel = "preload"
  link.as = "image"
  link.setAttribute("imagesrcset", (Object.keys(VARIANT_WIDTHS) as Array<keyof typeof VARIANT_WIDTHS>).map((k) => `${first.variants![k]} ${VARIANT_WIDTHS[k]}w`).join(", "))
  link.setAttribute("imagesizes", POST_IMAGE_SIZES)
  document.head.append(link)
}

const boot = () => {
  const session = get("/auth/session")
  const answers: Record<string, Promise<BootAnswer | undefined>> = { "GET /auth/session": session }
  if (location.pathname === "/") {
    const hinted = document.cookie.split("; ").includes(`${SIGNED_IN_HINT}=1`)
    const feed = hinted ? get(BOOT_FEED_PATH) : session.then((s) => {
      const signedIn = s?.status === 200 && (JSON.parse(s.text) as { user?: unknown }).user
      return signedIn ? get(BOOT_FEED_PATH) : undefined
    })
    feed.then(preloadFirstPhoto).catch(() => undefined)
    answers[`GET ${BOOT_FEED_PATH}`] = feed
  }
  window.__apBoot = answers
}

boot()
