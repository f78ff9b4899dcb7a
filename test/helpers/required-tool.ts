/**
 * What a test does when a program it drives for real (Chromium, promtool,
 * an SMTP server, Alertmanager) is missing. In CI (`CI` set, as .ci/run and
 * CI services do) that program is installed on purpose, so a missing one
 * fails the run, naming it and how to install it: a silent skip there would
 * turn the suite green while testing less. Elsewhere the suite skips with a
 * loud message, so a laptop without Chromium can still run the rest.
 */
import { accessSync, constants, statSync } from 'node:fs';

/** True when `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** True when running in CI: `CI` is set to anything but "", "0" or "false". */
export function inCi(): boolean {
  const ci = (process.env['CI'] ?? '').trim().toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}

/**
 * Reports missing programs needed by `what` (a suite's name): throws in CI,
 * otherwise prints a loud line on stderr and answers false (skip the suite).
 * @param missing what is missing, e.g. ["/usr/bin/chromium (Chromium)"]
 * @param packages the Debian packages that install them, e.g. ["chromium"]
 */
export function missingTool(what: string, missing: readonly string[], packages: readonly string[]): false {
  const why = `missing ${missing.join(' and ')}; install with \`apt-get install ${packages.join(' ')}\` (.ci/run does)`;
  if (inCi()) {
    const message = `FAILING ${what}: ${why}. CI must run every suite; set CI= only to skip it on purpose.`;
    console.error(`\n!!! ${message}\n`);
    throw new Error(message);
  }
  console.error(`\n!!! SKIPPING ${what}: ${why}.\n`);
  return false;
}
