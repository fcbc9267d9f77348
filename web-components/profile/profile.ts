import { define } from "../shared/define.ts"
import { ApProfile } from "./profile.component.ts"

export { ApProfile }
define("ap-profile", ApProfile)

declare global {
  interface HTMLElementTagNameMap {
    "ap-profile": ApProfile
  }
}
