CREATE TABLE `images` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`turn` integer NOT NULL,
	`mode` text NOT NULL,
	`prompt` text NOT NULL,
	`image_path` text NOT NULL,
	`provider` text NOT NULL,
	`model` text NOT NULL,
	`text_model` text,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`bytes` integer NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`requested_by` text NOT NULL,
	`created_at` text NOT NULL,
	`parent_image_id` text,
	FOREIGN KEY (`parent_image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `images_campaign_turn` ON `images` (`campaign_id`,`turn`);--> statement-breakpoint
CREATE INDEX `images_created_at` ON `images` (`created_at`);--> statement-breakpoint
CREATE INDEX `images_parent` ON `images` (`parent_image_id`);