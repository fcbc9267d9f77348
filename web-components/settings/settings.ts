import { define } from "../shared/define.ts"
import { ApSettings } from "./settings.component.ts"

export { ApSettings }
define("ap-settings", ApSettings)

declare global {
  interface HTMLElementTagNameMap {
    "ap-settings": ApSettings
  }
}
