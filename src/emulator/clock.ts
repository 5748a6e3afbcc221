// The range of virtual times the emulator accepts. Kept free of imports: the CLI checks
// `emulator clock` flags with it before sending anything.
//
// Why these bounds: JavaScript dates end at +275760-09-13, where every date formatting throws (so
// one POST /emulator/clock used to break every later API call, and a persisted offset broke every
// restart). Trigger SIDs carry the creation time in 12 hex digits and must not go negative, and
// Twilio's dates are RFC 2822 with four-digit years. 1970 to 9999 fits all of them, and leaves
// thousands of years for the real clock to run on past the end before anything could break.

/** The earliest virtual time: 1970-01-01T00:00:00Z. */
export const MIN_CLOCK_MS = 0;
/** The latest virtual time: 9999-12-31T23:59:59.999Z. */
export const MAX_CLOCK_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The accepted range, as people write it. */
export const CLOCK_RANGE_TEXT = 'from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z';

/** True when `ms` is a time the emulator can represent. */
export function isClockInRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_CLOCK_MS && ms <= MAX_CLOCK_MS;
}

/** Shows a candidate time for an error message, even one past what Date can hold. */
export function describeClockMs(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms since 1970` : d.toISOString();
}
