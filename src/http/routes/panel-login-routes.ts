import { z } from 'zod';
import { PUBLIC } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';

const loginOptionsSchema = z.object({
  botUsername: z
    .string()
    .nullable()
    .meta({
      description:
        'The bot of the tenant (X-Tenant) whose Telegram Login Widget the panel shows (TELEGRAM_BOT_USERNAME for the default tenant); null when not configured',
      examples: ['coach_anna_bot'],
    }),
});

/**
 * What the panel's login page needs before anyone is logged in: which bot's Login Widget to
 * embed. Public, and nothing secret: the bot's username is what users already see in Telegram.
 */
export const panelLoginRoutes = [
  defineRoute({
    name: 'getPanelLoginOptions',
    method: 'GET',
    path: '/api/panel/login-options',
    summary: "The bot whose Telegram Login Widget the panel's browser login shows",
    tags: ['Panel: session'],
    access: PUBLIC,
    responses: { 200: { description: 'Login options', schema: loginOptionsSchema } },
    async handler({ tenant }) {
      return { status: 200, body: { botUsername: tenant.botUsername ?? null } };
    },
  }),
];
