// Every server extension, in the order their routes are tried.
import type { ExtensionFactory } from "./types.ts";

export const extensionFactories: ExtensionFactory[] = [];
