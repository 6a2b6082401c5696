CREATE TABLE "cast_members" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "cast_members_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"campaign_id" text NOT NULL,
	"name" text NOT NULL,
	"name_key" text NOT NULL,
	"description" text NOT NULL,
	"status" text NOT NULL,
	"portrait_image_id" text,
	"updated_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "channel_links" (
	"channel_id" text PRIMARY KEY NOT NULL,
	"guild_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"linked_by" text NOT NULL,
	"linked_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "edit_sessions" (
	"user_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"current_image_id" text NOT NULL,
	"last_prompt" text NOT NULL,
	"reference_hash" text DEFAULT '' NOT NULL,
	"updated_at" text NOT NULL,
	CONSTRAINT "edit_sessions_user_id_campaign_id_pk" PRIMARY KEY("user_id","campaign_id")
);
--> statement-breakpoint
CREATE TABLE "guild_service" (
	"guild_id" text PRIMARY KEY NOT NULL,
	"served" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "guild_settings" (
	"guild_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" text NOT NULL,
	CONSTRAINT "guild_settings_guild_id_campaign_id_key_pk" PRIMARY KEY("guild_id","campaign_id","key")
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"turn" integer NOT NULL,
	"mode" text NOT NULL,
	"prompt" text NOT NULL,
	"image_path" text NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"text_model" text,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"bytes" integer NOT NULL,
	"input_tokens" integer DEFAULT 0 NOT NULL,
	"output_tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"requested_by" text NOT NULL,
	"created_at" text NOT NULL,
	"parent_image_id" text,
	"scene_key" text,
	"deleted_at" text,
	"deleted_by" text
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"guild_id" text,
	"channel_id" text,
	"user_id" text NOT NULL,
	"campaign_id" text,
	"interaction_id" text,
	"interaction_token" text,
	"created_at" text NOT NULL,
	"started_at" text,
	"finished_at" text,
	"image_id" text,
	"error_id" text,
	"error_message" text,
	"shard" integer DEFAULT 0 NOT NULL,
	"heartbeat_at" text,
	"session_key" text,
	"pictures" integer DEFAULT 1 NOT NULL,
	"seq" integer DEFAULT 0 NOT NULL,
	"delivered_at" text
);
--> statement-breakpoint
CREATE TABLE "moment_cache" (
	"key" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"answer" text NOT NULL,
	"created_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recaps" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"channel_id" text,
	"from_turn" integer NOT NULL,
	"to_turn" integer NOT NULL,
	"image_ids" text NOT NULL,
	"recap" text NOT NULL,
	"created_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scan_cache" (
	"key" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"turn" integer NOT NULL,
	"rationale" text NOT NULL,
	"created_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scene_leases" (
	"scene_key" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"taken_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scene_messages" (
	"message_id" text PRIMARY KEY NOT NULL,
	"image_id" text NOT NULL,
	"guild_id" text,
	"channel_id" text NOT NULL,
	"posted_at" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "setting_changes" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "setting_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"at" text NOT NULL,
	"guild_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"key" text NOT NULL,
	"old_value" text,
	"new_value" text,
	"changed_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sheet_messages" (
	"message_id" text NOT NULL,
	"image_id" text NOT NULL,
	"position" integer NOT NULL,
	"guild_id" text,
	"channel_id" text NOT NULL,
	"posted_at" text NOT NULL,
	CONSTRAINT "sheet_messages_message_id_image_id_pk" PRIMARY KEY("message_id","image_id")
);
--> statement-breakpoint
CREATE TABLE "story_characters" (
	"campaign_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"portrait" text,
	"proxy_name" text,
	"updated_at" text NOT NULL,
	CONSTRAINT "story_characters_campaign_id_user_id_pk" PRIMARY KEY("campaign_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "story_messages" (
	"message_id" text PRIMARY KEY NOT NULL,
	"channel_id" text NOT NULL,
	"sort_key" text NOT NULL,
	"author_id" text NOT NULL,
	"author_name" text NOT NULL,
	"content" text NOT NULL,
	"created_at" text NOT NULL,
	"edited_at" text,
	"deleted" boolean DEFAULT false NOT NULL,
	"webhook_id" text
);
--> statement-breakpoint
CREATE TABLE "usage" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "usage_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"at" text NOT NULL,
	"campaign_id" text,
	"guild_id" text,
	"channel_id" text,
	"user_id" text NOT NULL,
	"model" text NOT NULL,
	"purpose" text NOT NULL,
	"input_tokens" integer NOT NULL,
	"output_tokens" integer NOT NULL,
	"image_tokens" integer DEFAULT 0 NOT NULL,
	"estimated_input_tokens" integer,
	"images" integer DEFAULT 0 NOT NULL,
	"cost_usd" double precision NOT NULL,
	"image_id" text,
	"job_id" text,
	"budget_bypassed" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cast_members" ADD CONSTRAINT "cast_members_portrait_image_id_images_id_fk" FOREIGN KEY ("portrait_image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "edit_sessions" ADD CONSTRAINT "edit_sessions_current_image_id_images_id_fk" FOREIGN KEY ("current_image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_parent_image_id_images_id_fk" FOREIGN KEY ("parent_image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scene_messages" ADD CONSTRAINT "scene_messages_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sheet_messages" ADD CONSTRAINT "sheet_messages_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "cast_members_name" ON "cast_members" USING btree ("campaign_id","name_key");--> statement-breakpoint
CREATE INDEX "images_campaign_turn" ON "images" USING btree ("campaign_id","turn");--> statement-breakpoint
CREATE INDEX "images_scene_key" ON "images" USING btree ("campaign_id","scene_key","created_at");--> statement-breakpoint
CREATE INDEX "images_created_at" ON "images" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "images_parent" ON "images" USING btree ("parent_image_id");--> statement-breakpoint
CREATE INDEX "jobs_status" ON "jobs" USING btree ("status","shard");--> statement-breakpoint
CREATE INDEX "jobs_created_at" ON "jobs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "jobs_user_started" ON "jobs" USING btree ("user_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_seq" ON "jobs" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_interaction" ON "jobs" USING btree ("interaction_id","kind");--> statement-breakpoint
CREATE INDEX "recaps_channel" ON "recaps" USING btree ("campaign_id","channel_id","created_at");--> statement-breakpoint
CREATE INDEX "scene_messages_image" ON "scene_messages" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "setting_changes_guild_at" ON "setting_changes" USING btree ("guild_id","at");--> statement-breakpoint
CREATE INDEX "sheet_messages_image" ON "sheet_messages" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "story_messages_channel" ON "story_messages" USING btree ("channel_id","sort_key");--> statement-breakpoint
CREATE INDEX "usage_at" ON "usage" USING btree ("at");--> statement-breakpoint
CREATE INDEX "usage_guild_at" ON "usage" USING btree ("guild_id","at");--> statement-breakpoint
CREATE INDEX "usage_user_at" ON "usage" USING btree ("user_id","at");--> statement-breakpoint
CREATE INDEX "usage_job" ON "usage" USING btree ("job_id");