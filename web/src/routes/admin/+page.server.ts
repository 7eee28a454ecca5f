import { fail, redirect } from "@sveltejs/kit";
import { field } from "#lib/account.ts";
import { banUser, grantCoins, loadAdmin, loadModerationLog, ROLES, setRole, unbanUser } from "#lib/admin.ts";
import { shown } from "#lib/errors.ts";
import { asCaller } from "#lib/server/session.ts";
import type { Actions, PageServerLoad, RequestEvent } from "./$types";

export const load: PageServerLoad = async (event) => {
  const { locals, url } = event;
  if (!locals.user || !locals.token) redirect(303, "/login?next=/admin");
  const role = locals.user.role;
  if (role !== "admin" && role !== "moderator") return { allowed: false as const };
  const opts = asCaller(event, locals.token);
  const search = (url.searchParams.get("q") ?? "").slice(0, 100);
  try {
    const moderation = await loadModerationLog(opts);
    const admin = role === "admin" ? await loadAdmin(search, opts) : null;
    return { allowed: true as const, isAdmin: role === "admin", search, moderation, admin, loadError: null };
  } catch (e) {
    return { allowed: true as const, isAdmin: role === "admin", search, moderation: [], admin: null, loadError: shown(e, "admin") };
  }
};

/** Runs one admin mutation as the signed-in admin; the database decides who may. */
async function act(event: RequestEvent, fn: (form: FormData, opts: ReturnType<typeof asCaller>) => Promise<string>) {
  const { locals } = event;
  if (!locals.user || !locals.token) redirect(303, "/login?next=/admin");
  const form = await event.request.formData();
  const userId = field(form, "userId");
  try {
    const done = await fn(form, asCaller(event, locals.token));
    return { userId, done };
  } catch (e) {
    return fail(400, { userId, error: shown(e, "admin") });
  }
}

export const actions: Actions = {
  ban: (event) =>
    act(event, async (form, opts) => {
      await banUser(field(form, "userId"), field(form, "reason"), opts);
      return `Banned ${field(form, "username")} site-wide.`;
    }),
  unban: (event) =>
    act(event, async (form, opts) => {
      await unbanUser(field(form, "userId"), field(form, "reason"), opts);
      return `Lifted the ban on ${field(form, "username")}.`;
    }),
  role: (event) =>
    act(event, async (form, opts) => {
      const role = field(form, "role");
      if (!(ROLES as readonly string[]).includes(role)) throw new Error(`unknown role ${role}`);
      await setRole(field(form, "userId"), role, opts);
      return `${field(form, "username")} is now ${role}.`;
    }),
  grant: (event) =>
    act(event, async (form, opts) => {
      const coins = Number(field(form, "coins"));
      await grantCoins(field(form, "userId"), Number.isInteger(coins) ? coins : 0, field(form, "reason"), opts);
      return `Granted ${coins} coins to ${field(form, "username")}.`;
    }),
};
