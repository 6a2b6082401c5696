ALTER TABLE `images` ADD `scene_key` text;--> statement-breakpoint
CREATE INDEX `images_scene_key` ON `images` (`campaign_id`,`scene_key`,`created_at`);--> statement-breakpoint
ALTER TABLE `usage` ADD `budget_bypassed` integer DEFAULT false NOT NULL;