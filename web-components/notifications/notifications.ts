import { define } from "../shared/define.ts"
import { ApNotifications } from "./notifications.component.ts"

export { ApNotifications }
define("ap-notifications", ApNotifications)

declare global {
  interface HTMLElementTagNameMap {
    "ap-notifications": ApNotifications
  }
}
