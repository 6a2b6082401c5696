/**
 * The Gemini emulator answering as the scanner's model, in a process of its own so the bench's wall
 * times do not include the emulator's CPU time. Started by bench/scanner.ts through `fork`:
 * argument 1 is the latency in ms; it sends `{ url }` once listening, clears its request log on
 * the message `reset`, and exits when the parent disconnects.
 */
import { GeminiEmulator } from '../test/emulators/gemini/server.ts';
import { scannerScript } from '../test/support/scanner-script.ts';

const emulator = await GeminiEmulator.start({ latencyMs: Number(process.argv[2]) });
emulator.onText(scannerScript());
process.on('message', (message) => {
  if (message !== 'reset') return;
  emulator.reset();
  emulator.onText(scannerScript());
  process.send?.('reset');
});
process.on('disconnect', () => void emulator.close().then(() => process.exit(0)));
process.send?.({ url: emulator.url });
