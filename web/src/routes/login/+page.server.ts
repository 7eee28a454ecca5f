import { fail, redirect } from "@sveltejs/kit";
import { field } from "#lib/account.ts";
import { login } from "#lib/api.ts";
import { shown } from "#lib/errors.ts";
import { asCaller, safeNext, setSession } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.user) redirect(303, safeNext(url.searchParams.get("next")));
  return { banned: locals.banned ?? false };
};

// Signing in posts the form here (it works without JavaScript): the server calls `login` as an
// anonymous client and keeps the token in the session cookie.
export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const username = field(form, "username").trim();
    const password = field(form, "password");
    if (!username || !password)
      return fail(400, { username, error: { code: "BADIN", text: "Enter your username (or e-mail) and password." } });
    let token: string;
    try {
      token = await login(username, password, asCaller(event, null));
    } catch (e) {
      return fail(400, { username, error: shown(e, "login") });
    }
    setSession(event, token);
    redirect(303, safeNext(event.url.searchParams.get("next")));
  },
};
