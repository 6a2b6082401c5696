DROP INDEX `jobs_status`;--> statement-breakpoint
ALTER TABLE `jobs` ADD `shard` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_user_started` ON `jobs` (`user_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `jobs_status` ON `jobs` (`status`,`shard`);