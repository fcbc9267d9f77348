/**
 * The theme every component shares. Pages set the public `--ap-*` properties (they inherit into
 * shadow roots); components read the private `--_*` ones. `theme="dark"` / `"light"` force a
 * scheme; otherwise the user's `prefers-color-scheme` picks it.
 *
 * The focus ring is an outline in `--ap-focus-ring` (defaults at least 3:1 against the scheme's
 * background and surface, WCAG 2.4.13), not a box-shadow: forced-colours mode drops shadows but
 * keeps outlines, where it becomes `Highlight`.
 */
import { css } from "lit"

/** The dark scheme, forced by `theme="dark"` or chosen by the user's preference. */
const darkPalette = css`
  --_bg: var(--ap-bg, #121316);
  --_fg: var(--ap-fg, #eceef2);
  --_muted: var(--ap-muted, #a3a9b4);
  --_border: var(--ap-border, #30333a);
  --_surface: var(--ap-surface, #1d1f24);
  --_accent: var(--ap-accent, #7aa2ff);
  --_accent-fg: var(--ap-accent-fg, #0b0c0f);
  --_like: var(--ap-like, #ff5c80);
  --_danger: var(--ap-danger, #ff8a80);
  --_focus-ring: var(--ap-focus-ring, #9bbcff);
`

export const theme = css`
  :host {
    display: block;
    box-sizing: border-box;
    --_bg: var(--ap-bg, #ffffff);
    --_fg: var(--ap-fg, #16181d);
    --_muted: var(--ap-muted, #5d6470);
    --_border: var(--ap-border, #dde1e6);
    --_surface: var(--ap-surface, #f5f6f8);
    --_accent: var(--ap-accent, #2456d6);
    --_accent-fg: var(--ap-accent-fg, #ffffff);
    --_like: var(--ap-like, #d11a45);
    --_danger: var(--ap-danger, #b3261e);
    --_radius: var(--ap-radius, 10px);
    --_font: var(--ap-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
    --_focus-ring: var(--ap-focus-ring, #2456d6);
    --_focus: var(--ap-focus, 0 0 0 2px var(--_bg), 0 0 0 4px var(--_focus-ring));
    color: var(--_fg);
    background: var(--_bg);
    font-family: var(--_font);
    font-size: 15px;
    line-height: 1.4;
  }
  :host([theme="dark"]) {
    ${darkPalette}
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme="light"])) {
      ${darkPalette}
    }
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button,
  input,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--_border);
    background: var(--_surface);
    border-radius: 8px;
    padding: 0.4em 0.9em;
  }
  button.primary {
    background: var(--_accent);
    color: var(--_accent-fg);
    border-color: var(--_accent);
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  input,
  textarea {
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 8px;
    padding: 0.5em 0.7em;
    width: 100%;
  }
  :focus-visible {
    outline: 2px solid var(--_focus-ring);
    outline-offset: 2px;
  }
  @media (forced-colors: active) {
    :focus-visible {
      outline: 2px solid Highlight;
    }
  }
  a {
    color: var(--_accent);
  }
  .error {
    color: var(--_danger);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`
