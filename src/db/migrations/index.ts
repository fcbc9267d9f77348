/** Migrations in the order they apply; the key's number is the migration id. */
import outbox from "./0001_outbox.ts"
import accounts from "./0002_accounts.ts"
import posts from "./0003_posts.ts"
import outboxMessageIds from "./0004_outbox_message_ids.ts"
import searchKnn from "./0005_search_knn.ts"
import feedEngagement from "./0006_feed_engagement.ts"
import notifications from "./0007_notifications.ts"
import idempotency from "./0008_idempotency.ts"
import deadLetters from "./0009_dead_letters.ts"
import commentsAuthor from "./0010_comments_author.ts"
import actorFences from "./0011_actor_fences.ts"
import conversations from "./0012_conversations.ts"
import stories from "./0013_stories.ts"
import outboxTraceContext from "./0014_outbox_trace_context.ts"
import embedTokens from "./0016_embed_tokens.ts"
import postMedia from "./0017_post_media.ts"

export const migrations = {
  "0001_outbox": outbox,
  "0002_accounts": accounts,
  "0003_posts": posts,
  "0004_outbox_message_ids": outboxMessageIds,
  "0005_search_knn": searchKnn,
  "0006_feed_engagement": feedEngagement,
  "0007_notifications": notifications,
  "0008_idempotency": idempotency,
  "0009_dead_letters": deadLetters,
  "0010_comments_author": commentsAuthor,
  "0011_actor_fences": actorFences,
  "0012_conversations": conversations,
  "0013_stories": stories,
  "0014_outbox_trace_context": outboxTraceContext,
  "0016_embed_tokens": embedTokens,
  "0017_post_media": postMedia
}
