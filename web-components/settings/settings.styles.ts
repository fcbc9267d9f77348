import { css } from "lit"

export const styles = css`
  :host {
    max-width: 40rem;
  }
  section {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 1em;
    margin: 0 0 1em;
    background: var(--_bg);
  }
  h2 {
    margin: 0 0 0.6em;
    font-size: 1.1em;
  }
  form {
    display: grid;
    gap: 0.35em;
  }
  label {
    font-weight: 600;
    margin-top: 0.4em;
  }
  input,
  textarea {
    min-height: 44px;
  }
  button {
    min-height: 44px;
    min-width: 44px;
  }
  p {
    margin: 0.3em 0;
  }
  .muted {
    color: var(--_muted);
  }
  .field-error {
    font-weight: 600;
  }
  [aria-invalid="true"] {
    border-color: var(--_danger);
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6em;
    align-items: center;
    margin-top: 0.4em;
  }
  .status {
    color: var(--_muted);
  }
  .switch-row {
    display: flex;
    align-items: center;
    gap: 0.7em;
    min-height: 44px;
  }
  .switch-row label {
    margin: 0;
  }
  input[role="switch"] {
    appearance: none;
    position: relative;
    flex: none;
    width: 52px;
    min-height: 0;
    height: 30px;
    padding: 0;
    margin: 7px 0;
    border-radius: 15px;
    border: 1px solid var(--_muted);
    background: var(--_surface);
    cursor: pointer;
  }
  input[role="switch"]::before {
    content: "";
    position: absolute;
    top: 3px;
    left: 3px;
    width: 22px;
    height: 22px;
    border-radius: 50%;
    background: var(--_muted);
    transition: transform 0.15s;
  }
  input[role="switch"]:checked {
    background: var(--_accent);
    border-color: var(--_accent);
  }
  input[role="switch"]:checked::before {
    transform: translateX(22px);
    background: var(--_accent-fg);
  }
  @media (forced-colors: active) {
    input[role="switch"] {
      appearance: auto;
    }
  }
  .confirm {
    border-left: 3px solid var(--_danger);
    padding-left: 0.8em;
  }
  .blocked {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .blocked li {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.6em;
    padding: 0.4em 0;
    border-top: 1px solid var(--_border);
  }
  .blocked li:first-child {
    border-top: 0;
  }
  .who {
    min-width: 0;
    overflow-wrap: anywhere;
  }
  fieldset {
    border: 0;
    padding: 0;
    margin: 0.4em 0 0;
  }
  legend {
    font-weight: 600;
    padding: 0;
  }
  .created {
    border-left: 3px solid var(--_accent);
    padding-left: 0.8em;
    margin: 0.8em 0;
    display: grid;
    gap: 0.35em;
  }
  .created h3 {
    margin: 0;
    font-size: 1em;
  }
  .created input,
  .created textarea {
    font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
    width: 100%;
    box-sizing: border-box;
  }
  .created .row input {
    flex: 1 1 14em;
    width: auto;
  }
  .avatar-row {
    display: flex;
    flex-wrap: wrap;
    gap: 1em;
    align-items: center;
  }
  .avatar-now {
    border-radius: 50%;
    object-fit: cover;
  }
  .crop {
    display: grid;
    gap: 0.35em;
    justify-items: start;
    margin-top: 0.6em;
  }
  canvas {
    width: 240px;
    height: 240px;
    max-width: 100%;
    border-radius: 50%;
    background: var(--_surface);
    cursor: grab;
    touch-action: none;
  }
  canvas:focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 3px;
  }
  input[type="range"] {
    width: min(240px, 100%);
  }
`
