import fc from 'fast-check';

/**
 * Hostile request material for test/route-fuzz.test.ts. Bodies are built as raw JSON text, never
 * through JSON.stringify of a whole object: an object literal's `__proto__` would set the prototype
 * instead of adding a key, and duplicate keys could not exist at all.
 */

const json = (value: unknown) => JSON.stringify(value);

/** JSON.stringify writes a lone surrogate as `"\ud800"`: exactly the text an attacker sends. */
const EDGE_TEXTS = ['\ud800', 'a\u0000b', ' '];
const hostileStrings = [
  ...EDGE_TEXTS,
  '',
  '\u0000',
  '\udfff',
  'x\udc00y',
  '🙂',
  'é',
  '\u202e',
  '\ufeff',
  'null',
  '0',
  '279058397',
  '0b5c4ad6-3f44-4c1f-9e53-1b8a4e6f2d10',
  '0000-01-01T00:00:00Z',
  '2024-02-30T00:00:00Z',
  "'; drop table telegram_user; --",
  '__proto__',
  '%00',
  '\\',
];

/** Number literals JSON.stringify cannot write: -0, past 2^53 or 2^64, overflowing to Infinity. */
const EDGE_NUMBERS = ['1e308', '-0', '18446744073709551616'];
const hostileNumbers = [
  ...EDGE_NUMBERS,
  '-1e308',
  '1e309',
  '0',
  '-1',
  '0.5',
  '5e-324',
  '9007199254740993',
  '9223372036854775807',
  '-9223372036854775809',
  '123456789012345678901234567890',
];

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', '', '\u0000', '\ud800'];
const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 }));

/** Strings up to past the 64 KB body limit, in one-, two- and six-byte (escaped) characters. */
const longString = fc
  .tuple(fc.integer({ min: 1, max: 70_000 }), fc.constantFrom('a', 'é', ' ', '\u0000', '\ud800'))
  .map(([length, char]) => json(char.repeat(length)));

/** Raw JSON text of a hostile string: NUL or a lone surrogate somewhere, or worse. */
const hostileText = fc.oneof(
  fc
    .tuple(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('\u0000', '\ud800', '\udfff'),
      fc.string({ maxLength: 20 }),
    )
    .map(([before, bad, after]) => json(before + bad + after)),
  fc.constantFrom(...hostileStrings.map(json)),
  longString,
  fc.string({ unit: 'binary', maxLength: 40 }).map(json),
);

const hostileNumber = fc.oneof(
  fc.constantFrom(...hostileNumbers),
  fc.integer().map(json),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(json),
);

/** 1–250 levels of arrays and/or objects around a scalar, e.g. a 200-deep `[[[...]]]`. */
const deepNesting = fc
  .tuple(fc.array(fc.boolean(), { minLength: 1, maxLength: 250 }), fc.constantFrom('1', 'null', '"x"'))
  .map(([levels, leaf]) =>
    levels.reduceRight<string>((inner, isArray) => (isArray ? `[${inner}]` : `{"a":${inner}}`), leaf),
  );

const objectText = (entries: [string, string][]) =>
  `{${entries.map(([k, v]) => `${json(k)}:${v}`).join(',')}}`;

/** Raw JSON text of any hostile value: scalars, containers with hostile keys, deep and long ones. */
export const hostileValue: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(hostileText, hostileNumber, fc.constantFrom('true', 'false', 'null')),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(objectText),
    deepNesting,
    fc.jsonValue({ maxDepth: 3 }).map(json),
  ),
})).value;

/** Whole bodies that are not JSON at all (or not as koa-body's strict mode accepts it). */
const notJson = fc.constantFrom('', '{', '{"a":1,}', "{'a':1}", '[1,2', '{"a":1}{"b":2}', 'NaN', '\ufeff{}');

// ---- one-field mutations of a declared example, guided by the body's JSON schema -------------

export interface JsonSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
}
type Path = (string | number)[];
/** A place to mutate: `type` is what the schema or the example says lives there. */
type Site = {
  kind: 'replace' | 'remove' | 'extra';
  path: Path;
  key?: string;
  type: string;
  siblings?: string[];
};

const typeOf = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);
const objectSchema = (schema: JsonSchema | undefined): JsonSchema | undefined =>
  schema?.properties ? schema : schema?.anyOf?.map(objectSchema).find(Boolean);

function sitesOf(value: unknown, schema: JsonSchema | undefined, path: Path = [], out: Site[] = []): Site[] {
  if (!value || typeof value !== 'object') return out;
  const declared = objectSchema(schema)?.properties ?? {};
  out.push({ kind: 'extra', path, type: 'any', siblings: Array.isArray(value) ? [] : Object.keys(value) });
  if (!Array.isArray(value)) {
    // Declared but absent (optional) fields, e.g. survey `injuries`: typed values reach their checks.
    for (const [key, property] of Object.entries(declared)) {
      if (!(key in value)) out.push({ kind: 'extra', path, key, type: property.type ?? 'any' });
    }
  }
  for (const [key, child] of Object.entries(value)) {
    const at = [...path, Array.isArray(value) ? Number(key) : key];
    out.push(
      { kind: 'replace', path: at, type: typeOf(child) },
      { kind: 'remove', path: at, type: typeOf(child) },
    );
    sitesOf(child, Array.isArray(value) ? undefined : declared[key], at, out);
  }
  return out;
}

function valueFor(type: string): fc.Arbitrary<string> {
  const typed =
    type === 'string' ? hostileText : type === 'number' || type === 'integer' ? hostileNumber : null;
  return typed ? fc.oneof({ arbitrary: typed, weight: 3 }, hostileValue) : hostileValue;
}

type Node = { obj: [string, Node][] } | { arr: Node[] } | { raw: string };

function toNode(value: unknown): Node {
  if (Array.isArray(value)) return { arr: value.map(toNode) };
  if (value && typeof value === 'object')
    return { obj: Object.entries(value).map(([k, v]) => [k, toNode(v)]) };
  return { raw: json(value) };
}

function toText(node: Node): string {
  if ('raw' in node) return node.raw;
  if ('arr' in node) return `[${node.arr.map(toText).join(',')}]`;
  return objectText(node.obj.map(([k, v]) => [k, toText(v)]));
}

const child = (node: Node, step: string | number): Node =>
  'arr' in node ? node.arr[step as number]! : 'obj' in node ? node.obj.find(([k]) => k === step)![1] : node;

/** The example as raw JSON text with one site changed; a key already there becomes a duplicate. */
function mutate(example: unknown, site: Site, key: string, raw: string): string {
  const root = toNode(example);
  const parent = site.path.slice(0, site.kind === 'extra' ? undefined : -1).reduce(child, root);
  const last = site.path.at(-1)!;
  if ('arr' in parent) {
    if (site.kind === 'extra') parent.arr.push({ raw });
    else parent.arr.splice(last as number, 1, ...(site.kind === 'replace' ? [{ raw }] : []));
  } else if ('obj' in parent) {
    const index = parent.obj.findIndex(([k]) => k === last);
    if (site.kind === 'extra') parent.obj.push([site.key ?? key, { raw }]);
    else if (site.kind === 'remove') parent.obj.splice(index, 1);
    else parent.obj[index]![1] = { raw };
  }
  return toText(root);
}

/**
 * Bodies for a route: the example with one field replaced, removed or added (at any depth), or
 * whole-body garbage; plus `edges`, a fixed sweep of every site with the values that were bugs.
 */
export function hostileBodies(
  example: unknown,
  schema: JsonSchema,
): { arbitrary: fc.Arbitrary<string>; edges: string[] } {
  const garbage = fc.oneof(hostileValue, notJson, fc.json());
  if (example === undefined) return { arbitrary: garbage, edges: [] };
  const sites = sitesOf(example, schema);
  // Kind first, then site: removals and additions are as likely as replacements, however many fields.
  const kinds = (['replace', 'remove', 'extra'] as const)
    .map((kind) => sites.filter((site) => site.kind === kind))
    .filter((list) => list.length > 0);
  const mutated = fc.oneof(...kinds.map((list) => fc.constantFrom(...list))).chain((site) =>
    fc
      // A sibling's name makes a duplicate key; JSON.parse keeps the last one.
      .tuple(
        fc.constant(site),
        fc.oneof(hostileKey, fc.constantFrom(...(site.siblings ?? []), '__proto__')),
        valueFor(site.type),
      )
      .map((args) => mutate(example, ...args)),
  );
  const edges = [json(example)];
  for (const site of sites) {
    if (site.kind === 'remove') edges.push(mutate(example, site, '', ''));
    else if (site.type === 'string')
      for (const text of EDGE_TEXTS) edges.push(mutate(example, site, '', json(text)));
    else if (site.type === 'number' || site.type === 'integer')
      for (const number of EDGE_NUMBERS) edges.push(mutate(example, site, '', number));
    else if (site.kind === 'extra' && !site.key)
      edges.push(mutate(example, site, '__proto__', '{"isAdmin":true}'));
  }
  return { arbitrary: fc.oneof({ arbitrary: mutated, weight: 3 }, garbage), edges };
}

// ---- query strings ---------------------------------------------------------------------------

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Our cursors are base64url of `[createdAtISO, id]`; these dates are ones PostgreSQL refuses. */
const EDGE_CURSORS = [
  ['0000-01-01T00:00:00Z', '0b5c4ad6-3f44-4c1f-9e53-1b8a4e6f2d10'],
  ['0000-01-01T00:00:00.000Z', '0b5c4ad6-3f44-4c1f-9e53-1b8a4e6f2d10'],
  ['2024-02-30T00:00:00Z', '0b5c4ad6-3f44-4c1f-9e53-1b8a4e6f2d10'],
].map((pair) => base64url(json(pair)));
const EDGE_QUERY_VALUES = ['%00', '%ED%A0%80', '%E0%A4%A', ...EDGE_CURSORS];

const cursorDates = fc.oneof(
  fc.constantFrom(
    '2024-01-01T25:00:00Z',
    '1999-12-31T23:59:59.999Z',
    '2000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '+275760-09-13T00:00:00.000Z',
    '2024-01-01T00:00:00+01:00',
    '2024-01-01',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01') }).map((date) => date.toISOString()),
);
const cursorIds = fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'x'));

/** base64url of arbitrary JSON, and of `[date, uuid]` pairs that look like our own cursors. */
const cursor = fc.oneof(
  fc.constantFrom(...EDGE_CURSORS),
  fc.tuple(cursorDates, cursorIds).map((pair) => base64url(json(pair))),
  hostileValue.filter((text) => text.length < 300).map(base64url),
);

/** Query values, already percent-encoded as they appear on the wire. */
const queryValue = (enums: string[]) =>
  fc.oneof(
    fc.constantFrom(...EDGE_QUERY_VALUES, '%', '%zz', '%C0%AF', '%FF', '%F0%9F%99%82', 'é', '+', '1+1', ''),
    fc.constantFrom(
      '0',
      '1',
      '20',
      '100',
      '101',
      '1e2',
      '0x10',
      '%205',
      '00005',
      '99999999999999999999',
      'NaN',
    ),
    ...(enums.length ? [fc.constantFrom(...enums)] : []),
    fc.string({ unit: 'binary', maxLength: 30 }).map((text) => encodeURIComponent(text.toWellFormed())),
    // Long, but ten of them stay below Node's 16 KB header limit (past it Node itself answers 431).
    fc.integer({ min: 1, max: 1200 }).map((length) => 'a'.repeat(length)),
    cursor,
  );

/**
 * `k=v&...`: each declared key absent, once or repeated, plus the odd undeclared or hostile key;
 * `edges` sets each key alone to each value that was a bug, and repeats it.
 */
export function hostileQueries(
  keys: string[],
  enums: string[],
): { arbitrary: fc.Arbitrary<string>; edges: string[] } {
  const value = queryValue(enums);
  const perKey = keys.map((key) =>
    fc
      .oneof(
        { arbitrary: fc.constant([]), weight: 4 },
        { arbitrary: fc.tuple(value), weight: 4 },
        fc.array(value, { minLength: 2, maxLength: 3 }),
      )
      .map((values) => values.map((each) => `${key}=${each}`)),
  );
  const extraKeys = [
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '',
    '%00',
    '%ED%A0%80',
    'limit[]',
    'LIMIT',
  ];
  const extra = fc.option(fc.tuple(fc.constantFrom(...extraKeys), value), { freq: 4 });
  const arbitrary = fc
    .tuple(fc.tuple(...perKey), extra)
    .map(([declared, more]) => [...declared.flat(), ...(more ? [`${more[0]}=${more[1]}`] : [])].join('&'));
  const edges = keys.flatMap((key) => [
    ...EDGE_QUERY_VALUES.map((each) => `${key}=${each}`),
    `${key}=1&${key}=2`,
  ]);
  return { arbitrary, edges };
}
