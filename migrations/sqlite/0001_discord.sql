CREATE TABLE `channel_links` (
	`channel_id` text PRIMARY KEY NOT NULL,
	`guild_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`linked_by` text NOT NULL,
	`linked_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `scene_messages` (
	`message_id` text PRIMARY KEY NOT NULL,
	`image_id` text NOT NULL,
	`guild_id` text,
	`channel_id` text NOT NULL,
	`posted_at` text NOT NULL,
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `scene_messages_image` ON `scene_messages` (`image_id`);