CREATE TABLE `guild_settings` (
	`guild_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`guild_id`, `campaign_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `setting_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`guild_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`key` text NOT NULL,
	`old_value` text,
	`new_value` text,
	`changed_by` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `setting_changes_guild_at` ON `setting_changes` (`guild_id`,`at`);