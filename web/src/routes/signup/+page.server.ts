import { fail, redirect } from "@sveltejs/kit";
import { field } from "#lib/account.ts";
import { register } from "#lib/api.ts";
import { shown } from "#lib/errors.ts";
import { asCaller, safeNext, setSession } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = ({ locals }) => {
  if (locals.user) redirect(303, "/");
};

// Signing up posts here (works without JavaScript): `register` as an anonymous client, then the new
// account is signed in through the session cookie.
export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const username = field(form, "username").trim();
    const email = field(form, "email").trim();
    const password = field(form, "password");
    if (password !== field(form, "password2")) {
      return fail(400, { username, email, error: { code: "BADIN", text: "The two passwords differ." } });
    }
    let token: string;
    try {
      token = await register(username, email, password, asCaller(event, null));
    } catch (e) {
      return fail(400, { username, email, error: shown(e, "signup") });
    }
    setSession(event, token);
    redirect(303, safeNext(event.url.searchParams.get("next") ?? "/wallet"));
  },
};
