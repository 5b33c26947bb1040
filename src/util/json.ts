// JSON values as a type: what crosses the cluster IPC between the serving processes.

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };
