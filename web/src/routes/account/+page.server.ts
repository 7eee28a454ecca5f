import { fail, redirect } from "@sveltejs/kit";
import { field, saveProfile } from "#lib/account.ts";
import { shown } from "#lib/errors.ts";
import { asCaller } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = ({ locals }) => {
  if (!locals.user) redirect(303, "/login?next=/account");
  return { profile: locals.user };
};

export const actions: Actions = {
  default: async (event) => {
    const { locals } = event;
    if (!locals.user || !locals.token) redirect(303, "/login?next=/account");
    const form = await event.request.formData();
    const input = {
      displayName: field(form, "displayName"),
      avatarUrl: field(form, "avatarUrl"),
      vehicleStatus: field(form, "vehicleStatus"),
    };
    try {
      await saveProfile(locals.user.rowId, input, asCaller(event, locals.token));
    } catch (e) {
      return fail(400, { input, error: shown(e, "account") });
    }
    return { saved: true };
  },
};
