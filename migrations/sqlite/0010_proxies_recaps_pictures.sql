CREATE TABLE `moment_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`answer` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `recaps` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`channel_id` text,
	`from_turn` integer NOT NULL,
	`to_turn` integer NOT NULL,
	`image_ids` text NOT NULL,
	`recap` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `recaps_channel` ON `recaps` (`campaign_id`,`channel_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `pictures` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `story_characters` ADD `proxy_name` text;--> statement-breakpoint
ALTER TABLE `story_messages` ADD `webhook_id` text;