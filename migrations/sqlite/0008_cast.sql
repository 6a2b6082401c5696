CREATE TABLE `cast_members` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` text NOT NULL,
	`name` text NOT NULL,
	`name_key` text NOT NULL,
	`description` text NOT NULL,
	`status` text NOT NULL,
	`portrait_image_id` text,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`portrait_image_id`) REFERENCES `images`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cast_members_name` ON `cast_members` (`campaign_id`,`name_key`);