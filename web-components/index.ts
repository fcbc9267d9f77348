/**
 * The widget bundle (`/widgets/aperture.js`): every embeddable element, defined once per page
 * however many copies of the script load, plus the SDK for pages that want to script Aperture
 * themselves. The app (`<ap-app>`) is not in it: it is `/widgets/app.js`, which `index.html` loads,
 * split into a chunk per screen that the home page does not show.
 */
import "./composer/composer.ts"
import "./dm-inbox/dm-inbox.ts"
import "./dm-thread/dm-thread.ts"
import "./feed/feed.ts"
import "./notifications/notifications.ts"
import "./post/post.ts"
import "./profile/profile.ts"
import "./story-tray/story-tray.ts"
import "./story-viewer/story-viewer.ts"
import "./user-search/user-search.ts"

export { AdminClient } from "./sdk/admin.ts"
export { ApertureClient, clientFor } from "./sdk/client.ts"
export { DmClient } from "./sdk/dm.ts"
export { ApiError, RestClient } from "./sdk/rest.ts"
export { LiveSocket } from "./sdk/socket.ts"
export { StoriesClient } from "./sdk/stories.ts"
