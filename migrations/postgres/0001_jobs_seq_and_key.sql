ALTER TABLE "jobs" ADD COLUMN "seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Jobs already recorded get their arrival order, as near as their timestamps tell it.
UPDATE "jobs" SET "seq" = n."seq" FROM (SELECT "id", row_number() OVER (ORDER BY "created_at", "id") AS "seq" FROM "jobs") n WHERE "jobs"."id" = n."id";--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_seq" ON "jobs" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_interaction" ON "jobs" USING btree ("interaction_id","kind");