CREATE TABLE `sheet_messages` (
	`message_id` text NOT NULL,
	`image_id` text NOT NULL,
	`position` integer NOT NULL,
	`guild_id` text,
	`channel_id` text NOT NULL,
	`posted_at` text NOT NULL,
	PRIMARY KEY(`message_id`, `image_id`),
	FOREIGN KEY (`image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sheet_messages_image` ON `sheet_messages` (`image_id`);--> statement-breakpoint
ALTER TABLE `images` ADD `deleted_at` text;--> statement-breakpoint
ALTER TABLE `images` ADD `deleted_by` text;