ALTER TABLE `jobs` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Jobs already recorded keep their arrival order: rowid was the queue's order before `seq`.
UPDATE `jobs` SET `seq` = rowid;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_seq` ON `jobs` (`seq`);--> statement-breakpoint
-- Before the job key nothing kept a second job of one kind for one interaction out: the later ones lose the key.
UPDATE `jobs` SET `interaction_id` = NULL WHERE `interaction_id` IS NOT NULL AND rowid NOT IN (SELECT min(rowid) FROM `jobs` WHERE `interaction_id` IS NOT NULL GROUP BY `interaction_id`, `kind`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_interaction` ON `jobs` (`interaction_id`,`kind`);