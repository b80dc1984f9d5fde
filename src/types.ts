// Type helpers shared by the products; no runtime code.

/** Omit over each member of a union (a result without its path, say). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
