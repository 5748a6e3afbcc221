/** Exit codes, one table for the whole CLI (the README copies it). */
export const EXIT = {
  OK: 0,
  API: 1,
  USAGE: 2,
  AUTH: 3,
  NOT_FOUND: 4,
  NETWORK: 5,
  /** A fleet command (--all-subaccounts, --accounts…) finished, but some accounts failed; the others are done. */
  PARTIAL: 6,
  /** `utrig plan --detailed-exitcode`: the plan has changes pending (0 means none). */
  CHANGES: 7,
  CANCELLED: 130,
} as const;

/** Base of every error utrig throws on purpose: carries its exit code and an optional next step. */
export class UtrigError extends Error {
  readonly exitCode: number = EXIT.API;
  readonly hint: string | undefined;
  constructor(message: string, opts: { hint?: string | undefined; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

/** Twilio answered with an error; keeps status, Twilio code and more_info. */
export class ApiError extends UtrigError {
  override readonly exitCode: number = EXIT.API;
  readonly status: number;
  readonly code: number | undefined;
  readonly moreInfo: string | undefined;
  constructor(
    message: string,
    details: { status: number; code?: number | undefined; moreInfo?: string | undefined; hint?: string | undefined },
  ) {
    super(message, { hint: details.hint });
    this.status = details.status;
    this.code = details.code;
    this.moreInfo = details.moreInfo;
  }
}

/** A bad, missing or unknown flag, argument or command. Nothing was sent. */
export class UsageError extends UtrigError {
  override readonly exitCode: number = EXIT.USAGE;
}

/** Credentials missing or refused, or the config cannot be read. */
export class AuthError extends UtrigError {
  override readonly exitCode: number = EXIT.AUTH;
  readonly status: number | undefined;
  readonly code: number | undefined;
  constructor(message: string, opts: { hint?: string; cause?: unknown; status?: number; code?: number } = {}) {
    super(message, opts);
    this.status = opts.status;
    this.code = opts.code;
  }
}

/** The resource does not exist (HTTP 404 / Twilio 20404). */
export class NotFoundError extends UtrigError {
  override readonly exitCode: number = EXIT.NOT_FOUND;
  readonly status = 404;
  readonly code: number | undefined;
  constructor(message: string, opts: { hint?: string; code?: number } = {}) {
    super(message, opts);
    this.code = opts.code;
  }
}

/** The API could not be reached, or the connection dropped or timed out. */
export class NetworkError extends UtrigError {
  override readonly exitCode: number = EXIT.NETWORK;
}

/** Some accounts of a fleet command failed (each listed in the summary); the rest succeeded. */
export class PartialFailureError extends UtrigError {
  override readonly exitCode: number = EXIT.PARTIAL;
}

/** The user pressed Ctrl-C or Escape, or declined a confirmation. */
export class CancelledError extends UtrigError {
  override readonly exitCode: number = EXIT.CANCELLED;
}
