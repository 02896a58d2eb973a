// Debian's Chromium for the browser tests, never a downloaded browser (the brief's rule).
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian installs it (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches it headless; a missing Chromium fails the test with the line that installs it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the browser tests need it (Debian: apt-get install chromium)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
}
