// The Heroku service connection as Azure DevOps uses it: "Verify" and the app picker run the
// manifest's data sources (URL and auth templates, headers, jsonpath result selector, the task's
// result template) against a live emulator.
import assert from 'node:assert/strict';
import { useEmulator } from '../support/emulator';
import { endpointType, readManifest, readTaskJson, type DataSource, type EndpointType } from './manifest';

/** `{{endpoint.url}}`, `{{endpoint.apitoken}}`: Azure DevOps' endpoint templates. Unknown names throw. */
function fillEndpoint(template: string, endpoint: Record<string, string>): string {
  return template.replace(/\{\{\s*endpoint\.([\w.]+)\s*\}\}/g, (_, name: string) => {
    const value = endpoint[name];
    if (value === undefined) throw new Error(`the template ${template} uses endpoint.${name}, which the endpoint does not have`);
    return value;
  });
}

/** The jsonpath subset the manifest uses: `$`, then `.field` and `[*]` steps. Anything else throws. */
function selectJsonPath(selector: string, document: unknown): unknown[] {
  const path = selector.replace(/^jsonpath:/, '');
  if (!path.startsWith('$')) throw new Error(`unsupported result selector ${selector}`);
  let nodes: unknown[] = [document];
  const step = /\.([A-Za-z_][\w-]*)|\[\*\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const at = step.lastIndex;
    const match = step.exec(path);
    if (!match) throw new Error(`unsupported jsonpath ${path} (at "${path.slice(at)}")`);
    const field = match[1];
    nodes = field
      ? nodes.flatMap((n) =>
          n !== null && typeof n === 'object' && !Array.isArray(n) && field in n ? [(n as Record<string, unknown>)[field]] : [],
        )
      : nodes.flatMap((n): unknown[] =>
          Array.isArray(n) ? (n as unknown[]).slice() : n !== null && typeof n === 'object' ? Object.values(n) : [],
        );
  }
  return nodes;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Mustache as a dataSourceBinding's resultTemplate uses it: `{{{name}}}` raw, `{{name}}` escaped. */
function renderTemplate(template: string, item: unknown): string {
  const lookup = (name: string): string => {
    let value: unknown = item;
    for (const part of name.split('.'))
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    if (value === undefined || value === null) return '';
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : JSON.stringify(value);
  };
  return template.replace(
    /\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([\w.]+)\s*\}\}/g,
    (_, raw: string | undefined, escaped: string | undefined) => (raw ? lookup(raw) : escapeHtml(lookup(escaped ?? ''))),
  );
}

interface DataSourceAnswer {
  status: number;
  url: string;
  /** The result selector applied to the body (only for a 2xx answer). */
  items: unknown[];
  body: string;
}

/** Runs a data source as Azure DevOps does: the auth scheme's headers, then the data source's own. */
async function runDataSource(type: EndpointType, name: string, endpoint: Record<string, string>): Promise<DataSourceAnswer> {
  const source: DataSource | undefined = (type.dataSources ?? []).find((d) => d.name === name);
  if (!source) throw new Error(`the ${type.name} endpoint type has no data source ${name}`);
  const scheme = type.authenticationSchemes?.[0];
  const headers: Record<string, string> = {};
  for (const header of [...(scheme?.headers ?? []), ...(source.headers ?? [])])
    headers[header.name] = fillEndpoint(header.value, endpoint);
  const url = fillEndpoint(source.endpointUrl, endpoint);
  const response = await fetch(url, { headers });
  const body = await response.text();
  const items = response.ok && source.resultSelector ? selectJsonPath(source.resultSelector, JSON.parse(body)) : [];
  return { status: response.status, url, items, body };
}

describe('the Heroku service connection (vss-extension.json) against the emulator', () => {
  const context = useEmulator({ email: 'pipelines@example.com' });
  const manifest = readManifest();
  const heroku = endpointType(manifest, 'heroku');
  const endpoint = (apitoken = context.heroku.apiKey): Record<string, string> => ({ url: context.heroku.apiUrl, apitoken });
  const type = (): EndpointType => {
    assert.ok(heroku, 'vss-extension.json contributes no service endpoint type named heroku');
    return heroku;
  };

  it('is a token scheme whose input apitoken is confidential, with https://api.heroku.com as the default URL', () => {
    const schemes = type().authenticationSchemes ?? [];
    assert.deepEqual(
      schemes.map((s) => s.type),
      ['ms.vss-endpoint.endpoint-auth-scheme-token'],
    );
    const inputs = schemes[0]?.inputDescriptors ?? [];
    assert.deepEqual(
      inputs.map((i) => i.id),
      ['apitoken'],
    );
    assert.equal(inputs[0]?.isConfidential, true);
    assert.equal(inputs[0]?.inputMode, 'passwordbox');
    assert.equal(inputs[0]?.validation?.isRequired, true);
    assert.equal(type().url?.value, 'https://api.heroku.com');
    assert.match(
      schemes[0]?.headers?.find((h) => h.name === 'Authorization')?.value ?? '',
      /^Bearer \{\{endpoint\.apitoken\}\}$/,
    );
  });

  it('Verify (TestConnection) answers the account email', async () => {
    const answer = await runDataSource(type(), 'TestConnection', endpoint());
    assert.equal(answer.url, `${context.heroku.apiUrl}/account`);
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(answer.items, ['pipelines@example.com']);
  });

  it('Verify fails (401) with a wrong key', async () => {
    const answer = await runDataSource(type(), 'TestConnection', endpoint('wrong-key-0000'));
    assert.equal(answer.status, 401, answer.body);
    assert.deepEqual(answer.items, []);
  });

  it("the appName picker (HerokuApps and the task's result template) lists the account's apps", async () => {
    const names = [context.name('picker-a'), context.name('picker-b')];
    for (const name of names) await context.heroku.createApp(name);
    const other = context.heroku.createAccount('someone-else@example.com');
    const foreign = context.name('picker-foreign');
    await context.heroku.createApp(foreign, { owner: other.account });

    const binding = (readTaskJson('HerokuDeployV1').dataSourceBindings ?? []).find((b) => b.target === 'appName');
    assert.ok(binding?.dataSourceName && binding.resultTemplate, 'HerokuDeployV1 has no dataSourceBinding for appName');
    const answer = await runDataSource(type(), binding.dataSourceName, endpoint());
    assert.equal(answer.status, 200, answer.body);
    const options = answer.items.map(
      (item) => JSON.parse(renderTemplate(binding.resultTemplate ?? '', item)) as { Value: string; DisplayValue: string },
    );
    for (const option of options) assert.equal(option.DisplayValue, option.Value);
    const values = options.map((o) => o.Value);
    for (const name of names) assert.ok(values.includes(name), `${name} is not in the picker: ${values.join(', ')}`);
    assert.ok(!values.includes(foreign), 'the picker lists an app of another account');

    const wrongKey = await runDataSource(type(), binding.dataSourceName, endpoint('wrong-key-0000'));
    assert.equal(wrongKey.status, 401);
  });

  describe('the helpers', () => {
    it('jsonpath subset: $.field and $[*], and refuses what it does not implement', () => {
      assert.deepEqual(selectJsonPath('jsonpath:$.email', { email: 'a@b.c' }), ['a@b.c']);
      assert.deepEqual(selectJsonPath('jsonpath:$[*]', [{ name: 'x' }, { name: 'y' }]), [{ name: 'x' }, { name: 'y' }]);
      assert.deepEqual(selectJsonPath('jsonpath:$[*].name', [{ name: 'x' }, { name: 'y' }]), ['x', 'y']);
      assert.deepEqual(selectJsonPath('jsonpath:$.missing', { email: 'a@b.c' }), []);
      assert.throws(() => selectJsonPath('jsonpath:$..name', {}), /unsupported/);
      assert.throws(() => selectJsonPath('xpath:/a', {}), /unsupported/);
    });

    it('templates: {{{raw}}}, {{escaped}}, and unknown endpoint fields throw', () => {
      assert.equal(renderTemplate('{ "Value" : "{{{name}}}" }', { name: 'a&b' }), '{ "Value" : "a&b" }');
      assert.equal(renderTemplate('{{name}} {{owner.email}}', { name: 'a&b', owner: { email: 'x@y' } }), 'a&amp;b x@y');
      assert.equal(fillEndpoint('{{endpoint.url}}/account', { url: 'https://api.heroku.com' }), 'https://api.heroku.com/account');
      assert.throws(() => fillEndpoint('Bearer {{endpoint.password}}', { url: 'u', apitoken: 't' }), /endpoint\.password/);
    });
  });
});
