import { redirect } from "@sveltejs/kit";
import { shown } from "#lib/errors.ts";
import { asCaller } from "#lib/server/session.ts";
import { loadWallet } from "#lib/wallet.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async (event) => {
  const { locals } = event;
  if (!locals.user || !locals.token) redirect(303, "/login?next=/wallet");
  try {
    return { wallet: await loadWallet(asCaller(event, locals.token)), loadError: null };
  } catch (e) {
    return { wallet: null, loadError: shown(e, "wallet") };
  }
};
