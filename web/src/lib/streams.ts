// Browser-side streams: who is live now (the home page).
import { gql } from "#lib/api.ts";

export interface LiveStream {
  rowId: string;
  title: string;
  startedAt: string;
  userByBroadcasterId: { username: string; displayName: string } | null;
}

const LIVE = `query LiveStreams { liveStreams(first: 50) {
  nodes { rowId title startedAt userByBroadcasterId { username displayName } } } }`;

export async function fetchLiveStreams(): Promise<LiveStream[]> {
  const data = await gql<{ liveStreams: { nodes: LiveStream[] } }>(LIVE);
  return data.liveStreams.nodes;
}
