import pino from 'pino';

/** JSON logs to stderr (fd 2) so stdout stays clean for results. */
export const log = pino(
  { name: 'poolwatch', level: process.env.POOLWATCH_LOG_LEVEL ?? 'info', base: undefined },
  pino.destination({ dest: 2, sync: true }),
);
export type Logger = typeof log;
