import { define } from "../shared/define.ts"
import { ApSaved } from "./saved.component.ts"

export { ApSaved }
define("ap-saved", ApSaved)

declare global {
  interface HTMLElementTagNameMap {
    "ap-saved": ApSaved
  }
}
