import { define } from "../shared/define.ts"
import { ApActorInspector } from "./actor-inspector.component.ts"

export { ApActorInspector }
define("ap-actor-inspector", ApActorInspector)

declare global {
  interface HTMLElementTagNameMap {
    "ap-actor-inspector": ApActorInspector
  }
}
