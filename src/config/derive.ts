/**
 * Type-level rules that turn a file's shape as written (generated from its JSON Schema into
 * src/config/generated/) into the loaded config's shape (src/config/types.ts): each field of the
 * file gets exactly one rule, saying under which key and with which type it reaches the loaded
 * config. A schema field without a rule, or a rule for a field the schema does not have, fails
 * typecheck (test/config/schema-types.test.ts shows both), so the schemas stay the one place the
 * config shape is written. Types only: nothing here exists at run time.
 */

/** `heartbeat_timeout` -> `heartbeatTimeout`. */
export type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

declare const keep: unique symbol;
/** "The field's type as written." */
type Keep = typeof keep;

/**
 * One field's rule: the loaded key (`null`: the written key in camelCase), the loaded type
 * (`Keep`: as written) and whether it may be absent (`as-is`: as in the schema; `required`: the
 * loader fills in a default).
 */
export interface To<Key extends string | null = null, T = Keep, Mode extends 'as-is' | 'required' = 'as-is'> {
  key: Key;
  type: T;
  mode: Mode;
}

/** Same type, same optionality, key in camelCase. */
export type Same = To;
/** Same type, always present (the loader fills in the default the schema's description names). */
export type SameDefaulted = To<null, Keep, 'required'>;
/** Converted (a unit string to a number in the base unit, a list to a record), same optionality. */
export type Converted<T, Key extends string | null = null> = To<Key, T>;
/** Converted and always present (defaulted when absent). */
export type Defaulted<T, Key extends string | null = null> = To<Key, T, 'required'>;
/** Read by the loader into another field (a step's `timeout` into its `timeoutMs`), or documentation only. */
export interface Elsewhere {
  elsewhere: true;
}

type Rule = To<string | null, unknown, 'as-is' | 'required'> | Elsewhere;
/** A rule for every field of `Raw`. */
export type RulesFor<Raw> = { [K in keyof Raw]-?: Rule };
/** No rule for a field `Raw` does not have (a field removed from the schema). */
export type NoExtraRules<Raw, Rules> = [Exclude<keyof Rules, keyof Raw>] extends [never]
  ? unknown
  : { 'a rule names a field the schema does not have': Exclude<keyof Rules, keyof Raw> };

type OptionalKeys<Raw> = { [K in keyof Raw]-?: {} extends Pick<Raw, K> ? K : never }[keyof Raw];
type KeyOf<K, R> = R extends To<infer N, unknown, 'as-is' | 'required'> ? (N extends string ? N : Camel<K & string>) : never;
type TypeOf<Raw, K extends keyof Raw, R> = R extends To<string | null, infer T, 'as-is' | 'required'> ? ([T] extends [Keep] ? Exclude<Raw[K], undefined> : T) : never;
type Present<Raw, K extends keyof Raw, R> = R extends To<string | null, unknown, infer M> ? (M extends 'required' ? true : K extends OptionalKeys<Raw> ? false : true) : never;
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** The loaded shape of `Raw` under `Rules` (one rule per field, no more, no fewer). */
export type Normalise<Raw, Rules extends RulesFor<Raw> & NoExtraRules<Raw, Rules>> = Flat<
  // `-?`: a mapped type over `keyof Raw` keeps Raw's `?` unless told otherwise.
  { [K in keyof Raw as Present<Raw, K, Rules[K]> extends true ? KeyOf<K, Rules[K]> : never]-?: TypeOf<Raw, K, Rules[K]> } & {
    [K in keyof Raw as Present<Raw, K, Rules[K]> extends false ? KeyOf<K, Rules[K]> : never]?: TypeOf<Raw, K, Rules[K]>;
  }
>;

/**
 * A field that holds one of several kinds (a step: `power:`, `dwell:`...; an assertion) loaded as
 * a union tagged by `kind`: `Bodies` gives each kind's loaded body, one per field of `Raw`.
 */
export type Variants<Raw, Bodies extends { [K in keyof Raw]-?: object } & NoExtraRules<Raw, Bodies>> = {
  [K in keyof Bodies]: Flat<{ kind: K } & Bodies[K]>;
}[keyof Bodies];

/** Each object of a union with its keys in camelCase (`{ filter_hides: ... }` -> `{ filterHides: ... }`); other members as they are. */
export type CamelKeys<T> = T extends object ? { [K in keyof T as Camel<K & string>]: T[K] } : T;

/** One value of a map written as `name: {...}` (devices, power channels...). */
export type Entry<M> = NonNullable<M> extends { [k: string]: infer V } ? V : never;
/** The object form of a field that may also be written as a scalar (`dwell: 30s` or `dwell: {duration: 30s}`). */
export type ObjectForm<T> = Extract<NonNullable<T>, object>;
