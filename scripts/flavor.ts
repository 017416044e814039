// A private flavour of the extension (`npm run package -- --flavor dev`), for testing in an
// organisation that may also have the public extension installed: nothing it contributes may collide
// with the public one. Another extension id (`heroku-deploy-dev`), the publisher given with
// `--publisher` (else the public one), names suffixed " (dev)", every task id derived from the public
// one (a UUID v5: the same on every machine and every run, never the public id), and its own service
// connection type (`heroku-dev`).
import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FLAVOR_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const PUBLISHER = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';
const ENDPOINT_CONTRIBUTION = 'ms.vss-endpoint.service-endpoint-type';

export interface Flavor {
  name: string;
  publisher?: string;
}

/** RFC 4122 UUID version 5 (SHA-1) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  if (!UUID.test(namespace)) throw new Error(`"${namespace}" is not a UUID.`);
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The flavour's id of a task whose public id is `publicId`. */
export function flavorTaskId(publicId: string, flavor: Flavor): string {
  return uuidV5(`flavor:${flavor.name}`, publicId);
}

/** `--flavor <name>` and `--publisher <name>` from the command line; anything else is refused. */
export function parseFlavorArgs(argv: string[]): Flavor | undefined {
  let name: string | undefined;
  let publisher: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [key, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (!v || v.startsWith('--'))
        throw new Error(`${key} needs a value, e.g. npm run package -- --flavor dev --publisher my-test-publisher`);
      return v;
    };
    if (key === '--flavor') name = value();
    else if (key === '--publisher') publisher = value();
    else throw new Error(`Unknown argument "${arg}": npm run package takes --flavor <name> and --publisher <publisher>.`);
  }
  if (publisher !== undefined && name === undefined)
    throw new Error('--publisher goes with --flavor: the public extension keeps the publisher of vss-extension.json.');
  if (name === undefined) return undefined;
  if (!FLAVOR_NAME.test(name))
    throw new Error(`--flavor "${name}": use a short lowercase name such as dev (letters, digits, dashes).`);
  if (publisher !== undefined && !PUBLISHER.test(publisher))
    throw new Error(`--publisher "${publisher}" is not a Marketplace publisher id (letters, digits and dashes).`);
  return publisher === undefined ? { name } : { name, publisher };
}

type Json = Record<string, unknown>;

/** The flavour's task.json: its own id, " (dev)" after the name people see, the flavour's connection type. */
export function flavorTaskJson(task: Json, flavor: Flavor): Json {
  const endpointType = `connectedService:heroku-${flavor.name}`;
  return {
    ...task,
    id: flavorTaskId(String(task.id), flavor),
    friendlyName: `${String(task.friendlyName ?? task.name)} (${flavor.name})`,
    inputs: ((task.inputs ?? []) as Json[]).map((input) =>
      input.type === 'connectedService:heroku' ? { ...input, type: endpointType } : input,
    ),
  };
}

/** The flavour's manifest: its id, publisher and name, private, and its own service connection type. */
export function flavorManifest(manifest: Json, flavor: Flavor): Json {
  const contributions = ((manifest.contributions ?? []) as Json[]).map((contribution) => {
    if (contribution.type !== ENDPOINT_CONTRIBUTION) return contribution;
    const properties = contribution.properties as Json;
    return {
      ...contribution,
      properties: {
        ...properties,
        name: `${String(properties.name)}-${flavor.name}`,
        displayName: `${String(properties.displayName ?? properties.name)} (${flavor.name})`,
      },
    };
  });
  if (!contributions.some((c) => c.type === TASK_CONTRIBUTION)) throw new Error('vss-extension.json contributes no task.');
  return {
    ...manifest,
    id: `${String(manifest.id)}-${flavor.name}`,
    publisher: flavor.publisher ?? manifest.publisher,
    name: `${String(manifest.name)} (${flavor.name})`,
    public: false,
    contributions,
  };
}
