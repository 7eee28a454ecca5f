// See https://svelte.dev/docs/kit/types#app.d.ts
import type { SessionUser } from "#lib/account.ts";

declare global {
  namespace App {
    interface Locals {
      /** The session's API token (null: signed out), for page data and server-side calls. */
      token: string | null;
      user: SessionUser | null;
      balance: number | null;
      /** The session just ended because the user is banned. */
      banned?: boolean;
    }
    interface PageData {
      user?: SessionUser | null;
      balance?: number | null;
      token?: string | null;
    }
  }
}
