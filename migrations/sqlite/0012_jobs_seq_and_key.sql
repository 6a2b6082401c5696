ALTER TABLE `jobs` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Jobs already recorded keep their arrival order: rowid was the queue's order before `seq`.
UPDATE `jobs` SET `seq` = rowid;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_seq` ON `jobs` (`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_interaction` ON `jobs` (`interaction_id`,`kind`);