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
  .drop img {
    max-width: 100%;
    max-height: 360px;
    border-radius: 6px;
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
