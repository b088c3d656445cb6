/**
 * One typed error hierarchy for the whole platform. Every error carries a stable
 * `code` (what API clients and logs key on) and the HTTP status the API maps it to.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_SCENARIO'
  | 'INVALID_CONFIG'
  | 'INVALID_PAYLOAD'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'BACKPRESSURE'
  | 'NOT_READY'
  | 'STORAGE_ERROR'
  | 'BUS_ERROR'
  | 'INTERNAL';

const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  INVALID_SCENARIO: 400,
  INVALID_CONFIG: 400,
  INVALID_PAYLOAD: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  BACKPRESSURE: 503,
  NOT_READY: 503,
  STORAGE_ERROR: 500,
  BUS_ERROR: 500,
  INTERNAL: 500,
};

export class FabricscopeError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a field path, a parameter name, a file and line. */
  readonly where?: string;

  constructor(code: ErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${options.where}: ${message}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.where = options.where;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; where?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.where ? { where: this.where } : {}) } };
  }
}

/** A user-supplied value (API parameter, CLI flag) is wrong. */
export class InvalidArgumentError extends FabricscopeError {
  constructor(message: string, where?: string) {
    super('INVALID_ARGUMENT', message, { where });
  }
}

export class ScenarioError extends FabricscopeError {
  constructor(message: string, where?: string) {
    super('INVALID_SCENARIO', message, { where });
  }
}

export class ConfigError extends FabricscopeError {
  constructor(message: string, where?: string) {
    super('INVALID_CONFIG', message, { where });
  }
}

/** A telemetry payload (OTLP, Prometheus text, NCCL JSON) is malformed. */
export class PayloadError extends FabricscopeError {
  constructor(message: string, where?: string) {
    super('INVALID_PAYLOAD', message, { where });
  }
}

export class PayloadTooLargeError extends FabricscopeError {
  constructor(limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `body exceeds the limit of ${limitBytes} bytes`);
  }
}

export class NotFoundError extends FabricscopeError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The bus or a downstream stage is full: the sender should retry later. */
export class BackpressureError extends FabricscopeError {
  readonly retryAfterS: number;
  constructor(message: string, retryAfterS = 1) {
    super('BACKPRESSURE', message);
    this.retryAfterS = retryAfterS;
  }
}

export class StorageError extends FabricscopeError {
  constructor(message: string, cause?: unknown) {
    super('STORAGE_ERROR', message, { cause });
  }
}

export function isFabricscopeError(e: unknown): e is FabricscopeError {
  return e instanceof FabricscopeError;
}

/** Normalises anything thrown into a FabricscopeError without losing the original. */
export function asFabricscopeError(e: unknown): FabricscopeError {
  if (e instanceof FabricscopeError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new FabricscopeError('INTERNAL', message, { cause: e });
}
