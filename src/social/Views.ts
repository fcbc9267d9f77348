/** Rows to wire shapes, in one place, so every endpoint shows a user the same way. */
import { avatarOf, Counts, Me, Profile, UserListItem, userCardOf, ViewerFlags } from "../domain/Accounts.ts"
import type { CardRow, ListRow, Relation } from "../db/Graph.ts"
import type { UserRow } from "../db/Users.ts"
import type { PostRow } from "../db/Posts.ts"
import { Post, PostCounts, PostMedia, PostViewerFlags, Variants } from "../domain/Posts.ts"

export const countsOf = (u: UserRow) => new Counts({ followers: u.followerCount, following: u.followingCount, posts: u.postCount })

export const cardOf = (u: CardRow) => userCardOf(u)

export const listItemOf = (row: ListRow) => new UserListItem({ user: cardOf(row), isFollowing: row.isFollowing })

/** `admins`: ADMIN_USERNAMES (lower-case), so the app knows whether to offer the operators' pages. */
export const meOf = (u: UserRow, admins: ReadonlyArray<string>) =>
  new Me({
    id: u.id,
    username: u.username,
    email: u.email,
    displayName: u.displayName,
    bio: u.bio,
    avatar: avatarOf(u.avatar),
    isPrivate: u.isPrivate,
    counts: countsOf(u),
    createdAt: u.createdAt.toISOString(),
    isAdmin: admins.includes(u.username.toLowerCase())
  })

export const profileOf = (u: UserRow, relation: Relation | null, isSelf: boolean) =>
  new Profile({
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    bio: u.bio,
    avatar: avatarOf(u.avatar),
    isPrivate: u.isPrivate,
    counts: countsOf(u),
    viewer: relation === null || isSelf
      ? null
      : new ViewerFlags({
        isFollowing: relation.isFollowing,
        followsYou: relation.followsYou,
        requested: relation.requested,
        blocked: relation.blockedByViewer,
        muted: relation.muted
      }),
    canViewContent: isSelf || (!relation?.blockedByViewer && (!u.isPrivate || (relation?.isFollowing ?? false)))
  })

/** Variant URLs as stored, or each passed through `sign` (a restricted post's, for one viewer). */
const variantsOf = (variants: Record<string, string> | null, sign: ((url: string) => string) | undefined) =>
  variants === null
    ? null
    : new Variants((sign === undefined ? variants : Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, sign(v)]))) as never)

/**
 * A post as the API shows it; `viewer` flags when the caller is signed in and they were looked up;
 * `sign` turns its media URLs into the viewer's signed ones when its audience is restricted.
 */
export const postOf = (
  p: PostRow,
  author: CardRow,
  viewer: { liked: boolean; saved: boolean } | null = null,
  sign?: (url: string) => string
) =>
  new Post({
    id: p.id,
    status: p.status,
    caption: p.caption,
    altText: p.altText,
    location: p.location,
    variants: variantsOf(p.variants, sign),
    width: p.width,
    height: p.height,
    placeholder: p.placeholder,
    dominantColor: p.dominantColor,
    hashtags: p.hashtags,
    mentions: p.mentions,
    counts: new PostCounts({ likes: p.likeCount, comments: p.commentCount }),
    author: cardOf(author),
    viewer: viewer === null ? null : new PostViewerFlags({ isLiked: viewer.liked, isSaved: viewer.saved }),
    createdAt: p.createdAt.toISOString(),
    publishedAt: p.publishedAt?.toISOString() ?? null,
    media: p.media.map((m) =>
      new PostMedia({
        status: m.status,
        variants: variantsOf(m.variants, sign),
        width: m.width,
        height: m.height,
        placeholder: m.placeholder,
        dominantColor: m.dominantColor,
        altText: m.altText
      })
    )
  })
