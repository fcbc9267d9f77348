import { css } from "lit"

/** The square photo grid of a profile and of saved posts: three columns, each photo cropped to fill its square. */
export const gridStyles = css`
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
`
