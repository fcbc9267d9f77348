/**
 * Vitest setup for every test file. In the happy-dom files: the lazy chunks the components import
 * on their own (the app's screens, the post's comments, editor and live counts) are awaited
 * before the file's environment is torn down — a chunk still being imported when a test ended
 * defined its element after `customElements` was gone, an unhandled error that failed the run
 * although every test had passed (seen in CI with web-components/settings/settings-route.test.ts).
 */
import { afterAll } from "vitest"

afterAll(async () => {
  if (typeof document === "undefined") return
  await Promise.all([
    import("../settings/settings.ts"),
    import("../actor-inspector/actor-inspector.ts"),
    import("../people/people.ts"),
    import("../saved/saved.ts"),
    import("../post/comments.ts"),
    import("../post/post-edit.ts"),
    import("../post/live-counts.ts"),
    import("../composer/composer.ts"),
    import("../dm-thread/dm-thread.ts"),
    import("../profile/profile.ts"),
    import("../user-search/user-search.ts")
  ])
})
