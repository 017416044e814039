// What the packaging tests read: the extension manifest (vss-extension.json), the tasks' task.json
// files, and the service endpoint types the manifest contributes.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ExtensionManifest } from '../../scripts/package';
import { sharedPath } from '../support/shared';

export const ROOT = path.resolve(__dirname, '../..');
export const BUILD_TASKS = path.join(ROOT, 'build', 'tasks');
export const TASKS_SCHEMA = sharedPath('azure-pipelines', 'tasks.schema.json');

export interface Header {
  name: string;
  value: string;
}

export interface DataSource {
  name: string;
  endpointUrl: string;
  headers?: Header[];
  resultSelector?: string;
}

export interface InputDescriptor {
  id: string;
  name?: string;
  inputMode?: string;
  isConfidential?: boolean;
  validation?: { isRequired?: boolean; dataType?: string };
}

export interface AuthenticationScheme {
  type: string;
  headers?: Header[];
  inputDescriptors?: InputDescriptor[];
}

export interface EndpointType {
  name: string;
  displayName?: string;
  url?: { displayName?: string; value?: string };
  authenticationSchemes?: AuthenticationScheme[];
  dataSources?: DataSource[];
}

export interface Manifest extends ExtensionManifest {
  contributions?: Array<{
    id?: string;
    type?: string;
    targets?: string[];
    properties?: Record<string, unknown> & { name?: string };
  }>;
}

export const ENDPOINT_TYPE_CONTRIBUTION = 'ms.vss-endpoint.service-endpoint-type';

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function readManifest(): Manifest {
  return readJson<Manifest>(path.join(ROOT, 'vss-extension.json'));
}

/** The service endpoint type `name` contributed by the manifest, or undefined. */
export function endpointType(manifest: Manifest, name: string): EndpointType | undefined {
  const contribution = (manifest.contributions ?? []).find(
    (c) => c.type === ENDPOINT_TYPE_CONTRIBUTION && c.properties?.name === name,
  );
  return contribution?.properties as EndpointType | undefined;
}

/** tasks/<Name>V<Major>/ folders (the ones `npm run build` bundles). */
export function sourceTaskFolders(): string[] {
  return readdirSync(path.join(ROOT, 'tasks'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && /V\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

export interface TaskInput {
  name: string;
  type: string;
  label?: string;
  defaultValue?: string;
  required?: boolean;
  groupName?: string;
  aliases?: string[];
  properties?: Record<string, string>;
  options?: Record<string, string>;
  helpMarkDown?: string;
}

export interface TaskJson {
  id: string;
  name: string;
  friendlyName?: string;
  description?: string;
  helpMarkDown?: string;
  version: { Major: number; Minor: number; Patch: number };
  instanceNameFormat: string;
  groups?: Array<{ name: string; displayName?: string }>;
  inputs?: TaskInput[];
  dataSourceBindings?: Array<{ target?: string; endpointId?: string; dataSourceName?: string; resultTemplate?: string }>;
  outputVariables?: Array<{ name: string; description?: string }>;
  execution: Record<string, { target: string; argumentFormat?: string }>;
}

export function readTaskJson(folder: string): TaskJson {
  return readJson<TaskJson>(path.join(ROOT, 'tasks', folder, 'task.json'));
}
