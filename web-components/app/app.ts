import { define } from "../shared/define.ts"
import { ApApp } from "./app.component.ts"

export { ApApp }
define("ap-app", ApApp)

declare global {
  interface HTMLElementTagNameMap {
    "ap-app": ApApp
  }
}
