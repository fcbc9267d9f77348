/**
 * The client's entry points: each is served as `/widgets/<name>.js` (short cache) and
 * `/widgets/<name>.<hash>.js` (immutable), importing the hashed chunks they share
 * (`/widgets/chunk-<hash>.js`: Lit, the SDK, elements used by several widgets). A page that shows
 * one widget loads that widget's entry; `aperture` defines every embeddable widget; the app's own
 * screens for operators and account owners (`actor-inspector`, `settings`) have entries of their
 * own, which the app loads when they are first opened; `app` is what `index.html` loads. The server (`src/http/Static.ts`) serves exactly these names.
 */
export const ENTRIES = {
  aperture: "index.ts",
  "actor-inspector": "actor-inspector/actor-inspector.ts",
  settings: "settings/settings.ts",
  app: "app/app.ts",
  composer: "composer/composer.ts",
  "dm-inbox": "dm-inbox/dm-inbox.ts",
  "dm-thread": "dm-thread/dm-thread.ts",
  feed: "feed/feed.ts",
  notifications: "notifications/notifications.ts",
  post: "post/post.ts",
  profile: "profile/profile.ts",
  "story-tray": "story-tray/story-tray.ts",
  "story-viewer": "story-viewer/story-viewer.ts",
  "user-search": "user-search/user-search.ts"
} as const

export type EntryName = keyof typeof ENTRIES

export const ENTRY_NAMES = Object.keys(ENTRIES) as ReadonlyArray<EntryName>
