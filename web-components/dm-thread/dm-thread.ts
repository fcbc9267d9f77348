import { define } from "../shared/define.ts"
import { ApDmThread } from "./dm-thread.component.ts"

export { ApDmThread }
define("ap-dm-thread", ApDmThread)

declare global {
  interface HTMLElementTagNameMap {
    "ap-dm-thread": ApDmThread
  }
}
