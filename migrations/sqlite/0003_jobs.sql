CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`guild_id` text,
	`channel_id` text,
	`user_id` text NOT NULL,
	`campaign_id` text,
	`interaction_id` text,
	`interaction_token` text,
	`created_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	`image_id` text,
	`error_id` text,
	`error_message` text
);
--> statement-breakpoint
CREATE INDEX `jobs_status` ON `jobs` (`status`);--> statement-breakpoint
CREATE INDEX `jobs_created_at` ON `jobs` (`created_at`);