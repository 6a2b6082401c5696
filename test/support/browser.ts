import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import JSZip from 'jszip';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; the browser tests never download one. */
export const CHROMIUM = '/usr/bin/chromium';
/** Browser tests run only where the browser is installed (`apt-get install chromium`; `.ci/run` does). */
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const NO_CHROMIUM = `${CHROMIUM} is not installed (apt-get install chromium), so the storybook is not opened in a browser`;

/** Headless Chromium with nothing of its own reaching the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Unzips a zip into `dir` as a person would: every file under its name. */
export async function unzipTo(zipBytes: Buffer, dir: string): Promise<string[]> {
  const zip = await JSZip.loadAsync(zipBytes);
  await mkdir(dir, { recursive: true });
  const names = Object.keys(zip.files);
  for (const name of names) await writeFile(path.join(dir, name), await zip.file(name)!.async('nodebuffer'));
  return names;
}
