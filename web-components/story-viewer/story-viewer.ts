import { define } from "../shared/define.ts"
import { ApStoryViewer } from "./story-viewer.component.ts"

export { ApStoryViewer }
define("ap-story-viewer", ApStoryViewer)

declare global {
  interface HTMLElementTagNameMap {
    "ap-story-viewer": ApStoryViewer
  }
}
