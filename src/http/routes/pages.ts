/**
 * Shared links. `/p/:id` and `/u/:username` answer the web app's page with what a link preview
 * needs, read as an anonymous visitor would see it — a private or hidden post gets the plain page,
 * so a preview never shows what the public may not see, nor whether it exists. `/oembed` answers
 * oEmbed consumers for the same URLs.
 */
import { Effect, Option } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { BadRequest, NotFound } from "../../domain/ApiError.ts"
import { OEmbed } from "../../domain/Pages.ts"
import type { Post } from "../../domain/Posts.ts"
import type { Profile } from "../../domain/Accounts.ts"
import { RequestContext } from "../../observability/RequestContext.ts"
import { Posts } from "../../social/Posts.ts"
import { Social } from "../../social/Social.ts"
import { selfOrigin } from "../Auth.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { clip, type PageMeta, renderPage } from "../Site.ts"
import { renderEmbedPage } from "../EmbedPage.ts"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const USERNAME = /^[a-z0-9._]{1,30}$/i

/** This server's origin as links should name it: PUBLIC_URL, else the request's. */
const origin = Effect.gen(function*() {
  const config = yield* AppConfig
  const request = yield* RequestContext
  return (config.publicUrl ?? selfOrigin(request.headers, config.trustProxy) ?? `http://localhost:${config.port}`).replace(/\/+$/, "")
})

const absolute = (base: string, url: string) => {
  try {
    return new URL(url, `${base}/`).toString()
  } catch {
    return undefined
  }
}

/** The post as the public sees it, or none (unknown, private, hidden, not published). */
const publicPost = (id: string) =>
  UUID.test(id)
    ? Effect.flatMap(Posts, (p) => p.get(id.toLowerCase(), null)).pipe(
      Effect.map((post) => (post.status === "published" && !post.author.isPrivate ? Option.some(post) : Option.none<Post>())),
      Effect.catchAll(() => Effect.succeed(Option.none<Post>()))
    )
    : Effect.succeed(Option.none<Post>())

const publicProfile = (username: string) =>
  USERNAME.test(username)
    ? Effect.flatMap(Social, (s) => s.profile(username.toLowerCase(), null)).pipe(
      Effect.map(Option.some),
      Effect.catchAll(() => Effect.succeed(Option.none<Profile>()))
    )
    : Effect.succeed(Option.none<Profile>())

const nameOf = (u: { readonly displayName: string; readonly username: string }) => u.displayName.trim() === "" ? `@${u.username}` : `${u.displayName} (@${u.username})`

const postMeta = (base: string, post: Post): PageMeta => {
  const url = `${base}/p/${post.id}`
  const image = post.variants === null ? undefined : absolute(base, post.variants.large)
  return {
    title: `${nameOf(post.author)} on Aperture${post.caption.trim() === "" ? "" : `: “${clip(post.caption, 60)}”`}`,
    description: post.caption.trim() === "" ? `A photo by @${post.author.username} on Aperture.` : clip(post.caption, 200),
    url,
    image,
    imageAlt: post.altText ?? undefined,
    type: "article",
    oembed: `${base}/oembed?url=${encodeURIComponent(url)}`
  }
}

const profileMeta = (base: string, profile: Profile): PageMeta => {
  const url = `${base}/u/${profile.username}`
  const counts = `${profile.counts.posts} posts, ${profile.counts.followers} followers`
  return {
    title: `${nameOf(profile)} · Aperture`,
    description: profile.bio.trim() === "" ? `${counts} on Aperture.` : `${clip(profile.bio, 160)} · ${counts}`,
    url,
    image: profile.avatar === null ? undefined : absolute(base, profile.avatar.large),
    type: "profile",
    oembed: `${base}/oembed?url=${encodeURIComponent(url)}`
  }
}

/** The one widget's script (it defines that element and what it shows inside). */
const widgetScript = (base: string, widget: "post" | "profile") => `<script type="module" src="${base}/widgets/${widget}.js"></script>`
const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The page is the app's shell: always revalidated, like `index.html` (a deploy changes its script). */
const noCache = Effect.flatMap(RequestContext, (r) => Effect.sync(() => r.responseHeaders.push(["cache-control", "no-cache"])))

export const pagesHandlers = {
  embedPage: () =>
    Effect.gen(function*() {
      const base = yield* origin
      yield* noCache
      return renderEmbedPage(base)
    }),
  postPage: ({ path }) =>
    Effect.gen(function*() {
      const base = yield* origin
      const post = yield* publicPost(path.id)
      yield* noCache
      return renderPage(Option.isSome(post) ? postMeta(base, post.value) : { title: "Aperture" })
    }),
  profilePage: ({ path }) =>
    Effect.gen(function*() {
      const base = yield* origin
      const profile = yield* publicProfile(path.username)
      yield* noCache
      return renderPage(Option.isSome(profile) ? profileMeta(base, profile.value) : { title: "Aperture" })
    }),
  oembed: ({ urlParams }) =>
    Effect.gen(function*() {
      const base = yield* origin
      let target: URL
      try {
        target = new URL(urlParams.url)
      } catch {
        return yield* new BadRequest({ message: "url must be an absolute URL of a post (/p/<id>) or profile (/u/<username>) here" })
      }
      const width = Math.min(urlParams.maxwidth ?? 540, 540)
      const post = /^\/p\/([^/]+)\/?$/.exec(target.pathname)
      const user = /^\/u\/([^/]+)\/?$/.exec(target.pathname)
      const segment = decodeURIComponent((post ?? user)?.[1] ?? "")
      /** The oEmbed answer for a page's widget (its one script, a plain link inside for readers without scripts). */
      const rich = (meta: PageMeta, author: { readonly name: string; readonly url: string }, element: string, widget: "post" | "profile", thumbnail: string | undefined) =>
        new OEmbed({
          version: "1.0",
          type: "rich",
          provider_name: "Aperture",
          provider_url: base,
          title: meta.title,
          author_name: author.name,
          author_url: author.url,
          html: `<ap-${widget} api="${attr(base)}" ${element}><a href="${attr(meta.url!)}">${attr(meta.title)}</a></ap-${widget}>${widgetScript(base, widget)}`,
          width,
          height: null,
          ...(thumbnail === undefined ? {} : { thumbnail_url: thumbnail }),
          cache_age: 3600
        })
      if (post !== null) {
        const found = yield* publicPost(segment)
        if (Option.isNone(found)) return yield* new NotFound({ message: "no public post at that URL" })
        const p = found.value
        return rich(postMeta(base, p), { name: nameOf(p.author), url: `${base}/u/${p.author.username}` }, `post-id="${attr(p.id)}"`, "post", p.variants === null ? undefined : absolute(base, p.variants.thumbnail))
      }
      if (user !== null) {
        const found = yield* publicProfile(segment)
        if (Option.isNone(found)) return yield* new NotFound({ message: "no profile at that URL" })
        const u = found.value
        const meta = profileMeta(base, u)
        return rich(meta, { name: nameOf(u), url: meta.url! }, `username="${attr(u.username)}"`, "profile", u.avatar === null ? undefined : absolute(base, u.avatar.thumbnail))
      }
      return yield* new NotFound({ message: "oEmbed is offered for post (/p/<id>) and profile (/u/<username>) URLs" })
    })
} satisfies GroupHandlers<"pages", AppConfig | Posts | Social | RequestContext>
