import type { LayoutServerLoad } from "./$types";

// Every page knows who is signed in (the header) and gets the API token for the browser's client.
export const load: LayoutServerLoad = ({ locals }) => ({ user: locals.user, balance: locals.balance, token: locals.token });
