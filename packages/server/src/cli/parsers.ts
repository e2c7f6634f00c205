import { InvalidArgumentError } from 'commander';

/** Option parsers: a value that is not of its kind is a usage error (`error usage: …`, exit 2). */

/** An integer from `min` to `max`. */
export function integerBetween(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^[0-9]+$/.test(text) || value < min || value > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return value;
  };
}

const SECONDS_PER_UNIT: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** A duration in seconds: `3600`, or a number with a unit, `90s`, `15m`, `12h`, `30d`. */
export function durationSeconds(text: string): number {
  const match = /^([0-9]{1,9})([smhd]?)$/.exec(text);
  if (match === null) throw new InvalidArgumentError('expected seconds, or a number with s, m, h or d (e.g. 30d).');
  return Number(match[1]) * (SECONDS_PER_UNIT[match[2] ?? ''] ?? 1);
}

/** A JSON value. */
export function json(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidArgumentError('expected JSON.');
  }
}

/** A comma-separated list; empty items are dropped. */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
