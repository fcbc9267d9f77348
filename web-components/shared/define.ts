/** Defines a custom element unless the tag is already taken (two copies of the bundle on one page). */
export const define = (tag: string, element: CustomElementConstructor): void => {
  if (!customElements.get(tag)) customElements.define(tag, element)
}
