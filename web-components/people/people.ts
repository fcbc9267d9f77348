import { define } from "../shared/define.ts"
import { ApPeople } from "./people.component.ts"

export { ApPeople }
define("ap-people", ApPeople)

declare global {
  interface HTMLElementTagNameMap {
    "ap-people": ApPeople
  }
}
