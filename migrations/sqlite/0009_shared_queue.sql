CREATE TABLE `guild_service` (
	`guild_id` text PRIMARY KEY NOT NULL,
	`served` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `scene_leases` (
	`scene_key` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`taken_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `jobs` ADD `heartbeat_at` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `session_key` text;--> statement-breakpoint
CREATE INDEX `usage_job` ON `usage` (`job_id`);