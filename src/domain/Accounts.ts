/** Accounts, profiles and the social graph as they appear on the wire. */
import { Schema } from "effect"
import { StorableString } from "./Text.ts"

const trimmedLower = Schema.transform(StorableString, Schema.String, {
  strict: true,
  decode: (s) => s.trim().toLowerCase(),
  encode: (s) => s
})

/** 1–30 of `a-z 0-9 . _`; input is trimmed and lower-cased, so names are unique case-insensitively. */
export const Username = trimmedLower.pipe(
  Schema.filter((s) => /^[a-z0-9._]{1,30}$/.test(s), {
    message: () => "a username is 1–30 characters of a-z, 0-9, '.' and '_'"
  })
)

export const Email = trimmedLower.pipe(
  Schema.filter((s) => s.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s), {
    message: () => "an email address looks like name@example.com"
  })
)

/** NUL is refused like everywhere else (scrypt could hash it, but one rule for all text is simpler to trust). */
export const Password = StorableString.pipe(
  Schema.filter((s) => [...s].length >= 8 && [...s].length <= 128, {
    message: () => "a password is 8–128 characters"
  })
)

export const DisplayName = StorableString.pipe(
  Schema.filter((s) => [...s].length <= 64, { message: () => "a display name is at most 64 characters" })
)
export const Bio = StorableString.pipe(
  Schema.filter((s) => [...s].length <= 150, { message: () => "a bio is at most 150 characters" })
)

export const AvatarVariants = Schema.Struct({
  thumbnail: Schema.String,
  small: Schema.String,
  medium: Schema.String,
  large: Schema.String
})

/** The smallest public view of a user: what lists, search and cards show. */
export class UserCard extends Schema.Class<UserCard>("UserCard")({
  id: Schema.String,
  username: Schema.String,
  displayName: Schema.String,
  avatar: Schema.NullOr(AvatarVariants),
  isPrivate: Schema.Boolean
}) {}

const isAvatar = Schema.is(AvatarVariants)
/** A stored avatar value as the wire shows it: null unless it has every variant. */
export const avatarOf = (raw: unknown) => (isAvatar(raw) ? raw : null)

/** A user's card from the columns every query selects for one (id, username, display name, avatar, privacy). */
export const userCardOf = (u: {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly avatar: unknown
  readonly isPrivate: boolean
}) => new UserCard({ id: u.id, username: u.username, displayName: u.displayName, avatar: avatarOf(u.avatar), isPrivate: u.isPrivate }, true)

export class ViewerFlags extends Schema.Class<ViewerFlags>("ViewerFlags")({
  isFollowing: Schema.Boolean,
  followsYou: Schema.Boolean,
  requested: Schema.Boolean,
  blocked: Schema.Boolean,
  /** Whether the viewer mutes this account. */
  muted: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

export class Counts extends Schema.Class<Counts>("Counts")({
  followers: Schema.Int,
  following: Schema.Int,
  posts: Schema.Int
}) {}

export class Profile extends Schema.Class<Profile>("Profile")({
  id: Schema.String,
  username: Schema.String,
  displayName: Schema.String,
  bio: Schema.String,
  avatar: Schema.NullOr(AvatarVariants),
  isPrivate: Schema.Boolean,
  counts: Counts,
  /** Absent for anonymous viewers and on your own profile. */
  viewer: Schema.NullOr(ViewerFlags),
  /** Whether the viewer may see this account's lists and posts. */
  canViewContent: Schema.Boolean
}) {}

export class Me extends Schema.Class<Me>("Me")({
  id: Schema.String,
  username: Schema.String,
  email: Schema.String,
  displayName: Schema.String,
  bio: Schema.String,
  avatar: Schema.NullOr(AvatarVariants),
  isPrivate: Schema.Boolean,
  counts: Counts,
  createdAt: Schema.String,
  /** Whether this account may use the operators' endpoints and pages (ADMIN_USERNAMES). */
  isAdmin: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

export class PasswordChange extends Schema.Class<PasswordChange>("PasswordChange")({
  currentPassword: StorableString.pipe(Schema.minLength(1), Schema.maxLength(1024)),
  newPassword: Password
}) {}

/** Sessions another call ended (their sockets closed at once). */
export class SessionsEnded extends Schema.Class<SessionsEnded>("SessionsEnded")({
  endedSessions: Schema.Int
}) {}

/** Who is signed in, answered to anyone: `user` is null for an anonymous visitor (no 401 to log). */
export class SessionState extends Schema.Class<SessionState>("SessionState")({
  user: Schema.NullOr(Me)
}) {}

export class Signup extends Schema.Class<Signup>("Signup")({
  username: Username,
  email: Email,
  password: Password,
  displayName: Schema.optional(DisplayName)
}) {}

export class Login extends Schema.Class<Login>("Login")({
  /** Username or email. */
  login: StorableString.pipe(Schema.minLength(1), Schema.maxLength(254)),
  password: StorableString.pipe(Schema.minLength(1), Schema.maxLength(1024))
}) {}

export class AuthResult extends Schema.Class<AuthResult>("AuthResult")({
  user: Me,
  token: Schema.String
}) {}

export class WsTicket extends Schema.Class<WsTicket>("WsTicket")({
  ticket: Schema.String,
  expiresAt: Schema.String
}) {}

export class ProfileUpdate extends Schema.Class<ProfileUpdate>("ProfileUpdate")({
  displayName: Schema.optional(DisplayName),
  bio: Schema.optional(Bio),
  isPrivate: Schema.optional(Schema.Boolean)
}) {}

export const FollowStatus = Schema.Literal("following", "requested", "none")
export class FollowState extends Schema.Class<FollowState>("FollowState")({ status: FollowStatus }) {}

export class UserListItem extends Schema.Class<UserListItem>("UserListItem")({
  user: UserCard,
  /** Whether the viewer follows this user. */
  isFollowing: Schema.Boolean
}) {}

export class FollowRequestItem extends Schema.Class<FollowRequestItem>("FollowRequestItem")({
  id: Schema.String,
  user: UserCard,
  createdAt: Schema.String
}) {}

const page = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ items: Schema.Array(item), nextCursor: Schema.NullOr(Schema.String), hasMore: Schema.Boolean })

export const UserPage = page(UserListItem)
export type UserPage = typeof UserPage.Type
export const FollowRequestPage = page(FollowRequestItem)
export type FollowRequestPage = typeof FollowRequestPage.Type
export const UserCardPage = page(UserCard)
export type UserCardPage = typeof UserCardPage.Type

export const PageQuery = Schema.Struct({
  cursor: Schema.optional(StorableString.pipe(Schema.maxLength(200))),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 50)), { default: () => 20 })
})

export const SearchQuery = Schema.Struct({
  q: StorableString.pipe(Schema.minLength(1), Schema.maxLength(64)),
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 50)), { default: () => 20 })
})

export const UsernamePath = Schema.Struct({ username: StorableString.pipe(Schema.maxLength(64)) })
export const IdPath = Schema.Struct({ id: Schema.UUID })
