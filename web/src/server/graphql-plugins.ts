// Extra GraphQL (PostGraphile v5 plugins made with `extendSchema` from postgraphile/utils): custom
// subscriptions, the LiveKit token mutation and the like. Features add their plugin to this list.
export const graphqlPlugins: GraphileConfig.Plugin[] = [];
