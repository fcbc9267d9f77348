import { css } from "lit"

export const styles = css`
  form {
    display: grid;
    gap: 0.8em;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 1em;
  }
  .drop {
    display: grid;
    place-items: center;
    min-height: 180px;
    border: 2px dashed var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    color: var(--_muted);
    text-align: center;
    padding: 1em;
    cursor: pointer;
  }
  .drop.over {
    border-color: var(--_accent);
    color: var(--_accent);
  }
  .drop:focus-within {
    box-shadow: var(--_focus);
  }
  .drop.more {
    min-height: 0;
    padding: 0.6em;
  }
  .editor {
    display: grid;
    gap: 0.6em;
  }
  .frame {
    position: relative;
    overflow: hidden;
    max-height: 70vh;
    border-radius: 6px;
    background: var(--_surface);
    touch-action: none;
    cursor: grab;
  }
  .frame:focus-visible {
    box-shadow: var(--_focus);
  }
  .frame img {
    position: absolute;
    max-width: none;
    user-select: none;
    pointer-events: none;
  }
  .tools {
    flex-wrap: wrap;
  }
  .strip {
    display: flex;
    gap: 0.5em;
    overflow-x: auto;
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .strip li {
    display: grid;
    gap: 0.2em;
    justify-items: center;
  }
  .thumb {
    padding: 0;
    width: 64px;
    height: 64px;
    overflow: hidden;
  }
  .thumb[aria-pressed="true"] {
    outline: 3px solid var(--_accent);
  }
  .thumb img {
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  .strip .row button {
    min-width: 28px;
    padding: 0.1em 0.3em;
  }
  .drop input {
    position: absolute;
    opacity: 0;
    width: 1px;
    height: 1px;
  }
  label {
    display: grid;
    gap: 0.3em;
    font-weight: 600;
  }
  progress {
    width: 100%;
    height: 10px;
    accent-color: var(--_accent);
  }
  .row {
    display: flex;
    gap: 0.6em;
    align-items: center;
  }
  .status {
    color: var(--_muted);
  }
`
