/**
 * Server-rendered entry pages and the oEmbed provider: a shared post or profile link answers the
 * app's page with the title, Open Graph tags and an oEmbed discovery link of what it shows (public
 * content only), so it previews in chat apps and embeds in sites that speak oEmbed.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export const HtmlPage = Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/html; charset=utf-8" }))

/** Any segment: a page for an unknown or hidden post or profile is still the app (which says not found). */
export const PostPagePath = Schema.Struct({ id: Schema.String.pipe(Schema.maxLength(200)) })
export const ProfilePagePath = Schema.Struct({ username: Schema.String.pipe(Schema.maxLength(200)) })

export const OEmbedQuery = Schema.Struct({
  /** A post (`…/p/<id>`) or profile (`…/u/<username>`) URL of this server. */
  url: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(2048)),
  format: Schema.optional(Schema.Literal("json")),
  maxwidth: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(120, 4000))),
  maxheight: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(120, 4000)))
})

/** oEmbed 1.0 `rich` response (https://oembed.com). */
export class OEmbed extends Schema.Class<OEmbed>("OEmbed")({
  version: Schema.Literal("1.0"),
  type: Schema.Literal("rich"),
  provider_name: Schema.String,
  provider_url: Schema.String,
  title: Schema.String,
  author_name: Schema.String,
  author_url: Schema.String,
  html: Schema.String,
  width: Schema.Int,
  height: Schema.NullOr(Schema.Int),
  thumbnail_url: Schema.optional(Schema.String),
  thumbnail_width: Schema.optional(Schema.Int),
  thumbnail_height: Schema.optional(Schema.Int),
  cache_age: Schema.Int
}) {}
