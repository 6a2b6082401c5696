/**
 * Preloaded into the bot child by bench/bot.ts (`node --import tsx --import ./bench/bot-watchdog.ts ...`):
 * when the bench process is gone (the child was re-parented), the bot is sent SIGTERM, so a bench
 * killed with SIGKILL leaves no bot behind. One unref'd timer a second; nothing else changes.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();
