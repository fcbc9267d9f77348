import { css } from "lit"

export const styles = css`
  header {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: 0.4em 1.2em;
    align-items: center;
    padding: 1em 0;
  }
  .avatar {
    grid-row: span 3;
    width: 88px;
    height: 88px;
    border-radius: 50%;
    background: var(--_surface);
    object-fit: cover;
  }
  h2 {
    margin: 0;
    font-size: 1.3em;
  }
  .names {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6em;
    align-items: center;
  }
  .counts {
    display: flex;
    gap: 1.2em;
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .counts strong {
    font-weight: 700;
  }
  .bio {
    white-space: pre-wrap;
    margin: 0;
  }
  .muted {
    color: var(--_muted);
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(3, 1fr);
    gap: var(--ap-grid-gap, 4px);
    list-style: none;
    padding: 0;
    margin: 0;
  }
  .grid a {
    display: block;
    aspect-ratio: 1;
    background: var(--_surface) center / cover;
  }
  .grid img {
    width: 100%;
    height: 100%;
    object-fit: cover;
    display: block;
  }
  .private {
    text-align: center;
    padding: 2em 1em;
    border-top: 1px solid var(--_border);
  }
  .more {
    text-align: center;
    padding: 1em;
  }
`
