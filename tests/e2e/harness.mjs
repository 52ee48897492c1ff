// The pieces the browser tests share (webapp.mjs, channels.mjs): one line
// per check, a step that turns an exception into a failed check, the
// summary line and exit status, and Debian's Chromium launched headless
// the same way for every test.

import { chromium } from 'playwright-core';

let passed = 0;
let failed = 0;

// Records and prints one check; returns ok.
export function check(ok, what, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

// Runs fn; an exception is a failed check named name.
export async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(false, name, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  }
}

// Prints "N passed, N failed" and exits 1 on any failure.
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

// Debian's Chromium, headless, without the background traffic a test has no
// use for. Playwright gives every launch a fresh profile directory.
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
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
