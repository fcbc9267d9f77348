import { css } from "lit"

export const styles = css`
  article {
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
  }
  header {
    display: flex;
    align-items: center;
    gap: 0.6em;
    padding: 0.6em 0.8em;
  }
  header a {
    color: inherit;
    font-weight: 600;
    text-decoration: none;
  }
  .avatar {
    width: 32px;
    height: 32px;
    border-radius: 50%;
    background: var(--_surface);
    object-fit: cover;
  }
  .media {
    position: relative;
    background-size: cover;
    background-position: center;
    background-color: var(--_surface);
  }
  .media img {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
    opacity: 0;
    transition: opacity 0.25s;
  }
  .media img.loaded {
    opacity: 1;
  }
  .processing {
    padding: 3em 1em;
    text-align: center;
    color: var(--_muted);
  }
  .actions {
    display: flex;
    gap: 0.4em;
    padding: 0.5em 0.6em 0;
  }
  .actions button {
    display: inline-flex;
    align-items: center;
    gap: 0.35em;
    background: none;
    border-color: transparent;
  }
  .actions button[aria-pressed="true"].like {
    color: var(--_like);
  }
  .actions button[aria-pressed="true"].save {
    color: var(--_accent);
  }
  .actions .spacer {
    flex: 1;
  }
  .body {
    padding: 0.3em 0.9em 0.8em;
  }
  .caption {
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  time,
  .muted {
    color: var(--_muted);
    font-size: 0.85em;
  }
  .comments ul {
    list-style: none;
    padding: 0;
    margin: 0.5em 0;
  }
  .comments li {
    padding: 0.25em 0;
    overflow-wrap: anywhere;
  }
  .comments form {
    display: flex;
    gap: 0.4em;
  }
  .comments li button {
    font-size: 0.8em;
    padding: 0.1em 0.5em;
    margin-left: 0.4em;
  }
  [role="alert"]:empty {
    display: none;
  }
`
