/**
 * The `token` attribute takes an embed token (`ape_…`, made in Settings → Embed tokens: read, or
 * read + like, revocable), never a session token: a page's markup is copied, cached and shown
 * to others, and a session token there would give away the whole account. Anything else is
 * refused once, loudly (console.error), and the widget acts for nobody. Kept tiny: every widget
 * bundles it, and `<ap-post>` alone must stay within 15 KB gzipped.
 */
let warned = 0

/** The token to act with: an embed token as given; anything else none (logged once per page). */
export const embedTokenOf = (token?: string | null): string | undefined =>
  token?.startsWith("ape_") ? token : void (token && !warned++ && console.error("Aperture: token must be an embed token (ape_...), not a session token"))
