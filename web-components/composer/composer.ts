import { define } from "../shared/define.ts"
import { ApComposer } from "./composer.component.ts"

export { ApComposer }
define("ap-composer", ApComposer)

declare global {
  interface HTMLElementTagNameMap {
    "ap-composer": ApComposer
  }
}
