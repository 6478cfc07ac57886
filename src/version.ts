import { readFileSync } from 'node:fs';

/** Airlock's version, from package.json (src/ and dist/ are both two levels below it). */
export const AIRLOCK_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
