import { z } from 'zod';
import { getAlertPreferences, setAlertPreferences } from '../../domain/admin-alerts.ts';
import { panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';

const preferencesSchema = z.object({
  notifyNewApplications: z
    .boolean()
    .meta({ description: 'A bot message for each new application (default true)' }),
});

const tags = ['Panel: preferences'];
// Whoever may see applications may be told of new ones, and so may turn that off.
const access = panel('view_applications');

export const panelPreferenceRoutes = [
  defineRoute({
    name: 'getPanelPreferences',
    method: 'GET',
    path: '/api/panel/me/preferences',
    summary: "The caller's own panel settings",
    tags,
    access,
    responses: { 200: { description: 'The settings', schema: preferencesSchema } },
    async handler({ em, user }) {
      return { status: 200, body: await getAlertPreferences(em, user.id) };
    },
  }),

  defineRoute({
    name: 'setPanelPreferences',
    method: 'PUT',
    path: '/api/panel/me/preferences',
    summary: "Change the caller's own panel settings (only their own row)",
    tags,
    access,
    body: preferencesSchema.strict().meta({ examples: [{ notifyNewApplications: false }] }),
    responses: { 200: { description: 'The settings now', schema: preferencesSchema } },
    async handler({ body, em, user }) {
      // Not audited: an admin's own notification setting changes nobody's access or data.
      return { status: 200, body: await setAlertPreferences(em, user.id, body) };
    },
  }),
];
