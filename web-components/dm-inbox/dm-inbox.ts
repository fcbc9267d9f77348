import { define } from "../shared/define.ts"
import { ApDmInbox } from "./dm-inbox.component.ts"

export { ApDmInbox }
define("ap-dm-inbox", ApDmInbox)

declare global {
  interface HTMLElementTagNameMap {
    "ap-dm-inbox": ApDmInbox
  }
}
