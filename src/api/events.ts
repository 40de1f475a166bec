import { z } from 'zod';

/** A line for the app's log panel; any service may emit it. */
export const LogEvent = z.object({
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
  time: z.number(),
});

export const appEvents = {
  'app.log': LogEvent,
};
