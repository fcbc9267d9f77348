import { define } from "../shared/define.ts"
import { ApStoryTray } from "./story-tray.component.ts"

export { ApStoryTray }
define("ap-story-tray", ApStoryTray)

declare global {
  interface HTMLElementTagNameMap {
    "ap-story-tray": ApStoryTray
  }
}
