// Accounts: who is signed in (the header, every page's data), sign-up/in input, and the profile
// (display name, avatar URL, vehicle status: the chat badge). Called by the server (hooks, form
// actions) through the one API client with the caller's token.
import { type CallOptions, gql } from "#lib/api.ts";

export interface SessionUser {
  rowId: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
  vehicleStatus: string | null;
  role: "viewer" | "broadcaster" | "moderator" | "admin";
  isBanned: boolean;
}

export const SESSION_QUERY = `query Session {
  currentUser { rowId username displayName avatarUrl vehicleStatus role isBanned }
  myWallet { balance }
}`;

/** The header menu's entries for this user. */
export function menuFor(user: SessionUser): { href: string; label: string }[] {
  const items = [
    { href: "/account", label: "Profile" },
    { href: "/wallet", label: "Wallet" },
  ];
  if (user.role === "broadcaster" || user.role === "admin") items.push({ href: "/studio", label: "Studio" });
  if (user.role === "admin" || user.role === "moderator") items.push({ href: "/admin", label: "Admin" });
  return items;
}

export interface ProfileInput {
  displayName: string;
  avatarUrl: string;
  vehicleStatus: string;
}

/** Saves the profile: name and avatar through updateUserByRowId, the badge through setVehicleStatus. */
export async function saveProfile(userId: string, p: ProfileInput, opts: CallOptions): Promise<void> {
  await gql(
    `mutation SaveProfile($id: UUID!, $name: String!, $avatar: String, $vehicle: String) {
      updateUserByRowId(input: { rowId: $id, userPatch: { displayName: $name, avatarUrl: $avatar } }) { user { rowId } }
      setVehicleStatus(input: { status: $vehicle }) { result { rowId } }
    }`,
    { id: userId, name: p.displayName.trim(), avatar: p.avatarUrl.trim() || null, vehicle: p.vehicleStatus.trim() || null },
    opts,
  );
}

/** The form's fields as strings (a missing field is ""). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === "string" ? v : "";
}
