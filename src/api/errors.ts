/** Error codes a client can branch on. */
export type ApiErrorCode =
  | 'bad_request'
  | 'unknown_method'
  | 'not_found'
  | 'conflict'
  | 'cancelled'
  | 'unavailable'
  | 'internal';

/** A failure a service reports on purpose; its message is meant for the user. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The error object every host returns in place of a result. */
export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  details?: unknown;
}

/** What every host returns for one request. */
export type Reply<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiErrorBody };
