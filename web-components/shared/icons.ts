/** Inline SVG icons (no icon font, no emoji: both depend on what the reader's system has). */
import { html, svg } from "lit"

const icon = (body: ReturnType<typeof svg>, filled = false) =>
  html`<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false" fill=${filled ? "currentColor" : "none"} stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round">${body}</svg>`

const heartPath = svg`<path d="M12 20.5s-7.5-4.6-9.3-9.2C1.5 8.1 3.6 4.5 7.1 4.5c2 0 3.6 1.1 4.9 2.9 1.3-1.8 2.9-2.9 4.9-2.9 3.5 0 5.6 3.6 4.4 6.8-1.8 4.6-9.3 9.2-9.3 9.2z"/>`
const bookmarkPath = svg`<path d="M6 3.5h12v17l-6-4.5-6 4.5z"/>`

export const heart = (filled: boolean) => icon(heartPath, filled)
export const bookmark = (filled: boolean) => icon(bookmarkPath, filled)
export const comment = () => icon(svg`<path d="M20.5 11.5a8.5 8.5 0 0 1-12.6 7.4L3.5 20.5l1.6-4.2A8.5 8.5 0 1 1 20.5 11.5z"/>`)
export const bell = () =>
  icon(svg`<path d="M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 2h-15zM10 20.5a2 2 0 0 0 4 0"/>`)
export const image = () =>
  icon(svg`<rect x="3.5" y="4.5" width="17" height="15" rx="2"/><circle cx="9" cy="10" r="1.8"/><path d="M20.5 16l-5-5-8.5 8.5"/>`)
export const home = () => icon(svg`<path d="M3.5 11 12 4l8.5 7v9.5h-5.5v-6h-6v6H3.5z"/>`)
export const search = () => icon(svg`<circle cx="10.5" cy="10.5" r="6.5"/><path d="m15.5 15.5 5 5"/>`)
export const plus = () => icon(svg`<rect x="3.5" y="3.5" width="17" height="17" rx="4"/><path d="M12 8v8M8 12h8"/>`)
export const person = () => icon(svg`<circle cx="12" cy="8.5" r="4"/><path d="M4 20.5c1.2-4 4.3-6 8-6s6.8 2 8 6"/>`)
