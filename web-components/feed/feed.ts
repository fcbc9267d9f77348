import { define } from "../shared/define.ts"
import { ApFeed } from "./feed.component.ts"

export { ApFeed }
define("ap-feed", ApFeed)

declare global {
  interface HTMLElementTagNameMap {
    "ap-feed": ApFeed
  }
}
