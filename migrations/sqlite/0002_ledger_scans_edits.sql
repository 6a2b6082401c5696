CREATE TABLE `edit_sessions` (
	`user_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`current_image_id` text NOT NULL,
	`last_prompt` text NOT NULL,
	`reference_hash` text DEFAULT '' NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`user_id`, `campaign_id`),
	FOREIGN KEY (`current_image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `scan_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`turn` integer NOT NULL,
	`rationale` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`campaign_id` text,
	`guild_id` text,
	`channel_id` text,
	`user_id` text NOT NULL,
	`model` text NOT NULL,
	`purpose` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`image_tokens` integer DEFAULT 0 NOT NULL,
	`estimated_input_tokens` integer,
	`images` integer DEFAULT 0 NOT NULL,
	`cost_usd` real NOT NULL,
	`image_id` text,
	`job_id` text
);
--> statement-breakpoint
CREATE INDEX `usage_at` ON `usage` (`at`);--> statement-breakpoint
CREATE INDEX `usage_guild_at` ON `usage` (`guild_id`,`at`);--> statement-breakpoint
CREATE INDEX `usage_user_at` ON `usage` (`user_id`,`at`);