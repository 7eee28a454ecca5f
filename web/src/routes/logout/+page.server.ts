import { redirect } from "@sveltejs/kit";
import { clearSession } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = () => redirect(303, "/");

// Sign out: the header's form posts here; the session cookie is deleted (the token itself expires
// on its own within JWT_TTL_SECONDS).
export const actions: Actions = {
  default: (event) => {
    clearSession(event);
    redirect(303, "/");
  },
};
