/**
 * One place for every error poolwatch raises on purpose. Each carries a stable `code` that
 * scripts and tests can match on, and the context needed to find the bad bytes again.
 */
export type ErrorCode =
  | 'PW_ERR_TRUNCATED' // input ends inside a header or record
  | 'PW_ERR_BAD_MAGIC' // not a capture format we know
  | 'PW_ERR_BAD_LENGTH' // a length field that cannot be true
  | 'PW_ERR_BAD_BLOCK' // pcapng block structure broken
  | 'PW_ERR_IO' // file missing, unreadable, child process died
  | 'PW_ERR_LIST_SYNTAX' // a blacklist line we cannot parse
  | 'PW_ERR_DB' // database cannot be opened or written
  | 'PW_ERR_FETCH' // a blacklist source could not be fetched or read, or its content is unusable
  | 'PW_ERR_SHRINK' // a blacklist source shrank more than allowed; its old entries were kept
  | 'PW_ERR_USAGE'; // bad command line

export interface ErrorContext {
  file?: string;
  offset?: number;
  line?: number;
  [k: string]: unknown;
}

export class PoolwatchError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(formatMessage(message, context));
    this.name = 'PoolwatchError';
    this.code = code;
    this.context = context;
  }
}

function formatMessage(message: string, ctx: ErrorContext): string {
  const where: string[] = [];
  if (ctx.file !== undefined) where.push(ctx.file);
  if (ctx.line !== undefined) where.push(`line ${ctx.line}`);
  if (ctx.offset !== undefined) where.push(`offset ${ctx.offset}`);
  return where.length ? `${where.join(', ')}: ${message}` : message;
}

export function isPoolwatchError(e: unknown): e is PoolwatchError {
  return e instanceof PoolwatchError;
}
