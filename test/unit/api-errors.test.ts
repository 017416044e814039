// Every Platform API failure, said in words a person can act on: the kind, what was being done,
// which app and input, the account, and what to do next.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import { explainApiError, type ApiErrorContext } from '../../tasks/common/core/heroku/api-errors';

const context: ApiErrorContext = {
  doing: 'reading the app my-app',
  apiUrl: 'https://api.heroku.com',
  app: 'my-app',
  email: 'dev@example.com',
};
const http = (
  status: number,
  id: string | null,
  method = 'GET',
  path = '/apps/my-app',
  more: { requestId?: string; attempts?: number } = {},
): HerokuApiError =>
  new HerokuApiError(status, id, `${id ?? 'error'} message`, method, path, more.requestId ?? null, null, more.attempts ?? 1);
const network = (code: string | null, message = 'connect failed', attempts = 1): HerokuApiError =>
  new HerokuApiError(null, null, message, 'GET', '/account', null, code, attempts);

describe('Platform API failures explained', () => {
  it('passes a TaskError through and names an unexpected error with what was being done', () => {
    const already = new TaskError('input', 'already explained');
    assert.equal(explainApiError(already, context), already);
    const unexpected = explainApiError(new RangeError('bad'), context);
    assert.deepEqual([unexpected.kind, unexpected.message], ['unexpected', 'Unexpected error while reading the app my-app: bad']);
  });

  it('says the API could not be reached, with the code, the attempts and what to check', () => {
    const error = explainApiError(network('ECONNREFUSED', 'connect ECONNREFUSED', 5), context);
    assert.equal(error.kind, 'network');
    assert.equal(
      error.message,
      "Could not reach Heroku's API at https://api.heroku.com while reading the app my-app (ECONNREFUSED, 5 attempts). Check the agent's network access to https://api.heroku.com, its proxy settings (Agent.ProxyUrl) and firewall, and https://status.heroku.com; then re-run the job.",
    );
    assert.match(explainApiError(network(null, 'socket hang up'), context).message, / \(socket hang up\)\. Check/);
  });

  it('says a TLS certificate is not trusted and how to give the agent its CA', () => {
    for (const code of [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'CERT_HAS_EXPIRED',
    ]) {
      const error = explainApiError(network(code, 'certificate problem'), context);
      assert.equal(error.kind, 'network', code);
      assert.equal(
        error.message,
        `The TLS certificate of https://api.heroku.com is not trusted (${code}: certificate problem) while reading the app my-app. If your network inspects TLS, give the agent your CA certificate (agent setting Agent.CAInfo, \`config --sslcacert\`).`,
      );
    }
  });

  it('says the key was rejected (401)', () => {
    const error = explainApiError(http(401, 'unauthorized', 'GET', '/account'), context);
    assert.equal(error.kind, 'auth');
    assert.match(
      error.message,
      /^Heroku rejected the API key \(401 unauthorized\): it is wrong, expired or revoked\. Create a long-lived key with `heroku authorizations:create/,
    );
  });

  it('names the account and the app on 403, and how to get access', () => {
    const error = explainApiError(http(403, 'forbidden'), context);
    assert.equal(error.kind, 'permission');
    assert.equal(
      error.message,
      'The account dev@example.com has no access to the app my-app (403 forbidden: forbidden message). Add it as a collaborator (`heroku access:add dev@example.com -a my-app`) or use the key of an account that can deploy the app.',
    );
    const unnamed = explainApiError(http(403, 'forbidden', 'GET', '/pipelines/p'), {
      doing: 'x',
      apiUrl: 'https://api.heroku.com',
    });
    assert.equal(
      unnamed.message,
      'The account of this API key has no access to this resource (403 forbidden: forbidden message). Add it as a collaborator (`heroku access:add <email>`) or use the key of an account that can deploy the app.',
    );
  });

  it('says there is no such app, naming the input to check, and otherwise what was not found', () => {
    const app = explainApiError(http(404, 'not_found'), { ...context, input: 'targetApps' });
    assert.equal(app.kind, 'not-found');
    assert.equal(
      app.message,
      'There is no Heroku app named my-app (404 not_found) visible to dev@example.com. Check the targetApps input against `heroku apps`, or create the app first (`heroku apps:create my-app`).',
    );
    assert.match(
      explainApiError(http(404, 'not_found'), { ...context, email: undefined }).message,
      /visible to this account\. Check the appName input/,
    );
    const other = explainApiError(http(404, 'not_found', 'GET', '/apps/my-app/releases/9', { requestId: 'req-1' }), context);
    assert.equal(
      other.message,
      'Heroku found nothing at GET /apps/my-app/releases/9 while reading the app my-app (404 not_found: not_found message) (request id req-1).',
    );
  });

  it('says the rate limit is used up and what to do', () => {
    const error = explainApiError(http(429, 'rate_limit'), context);
    assert.equal(error.kind, 'api');
    assert.match(
      error.message,
      /^Heroku's API rate limit for this account is used up \(429 rate_limit: 4,500 calls per hour, refilled gradually\) while reading the app my-app\. Wait a few minutes/,
    );
  });

  it('on a 5xx, says whether the change may have been made (anything but a GET)', () => {
    const read = explainApiError(
      http(503, 'service_unavailable', 'GET', '/apps/my-app', { attempts: 5, requestId: 'r-2' }),
      context,
    );
    assert.equal(
      read.message,
      "Heroku's API failed while reading the app my-app (503 service_unavailable: service_unavailable message, 5 attempts) (request id r-2). Heroku may be having an incident (https://status.heroku.com): re-run the job later.",
    );
    const write = explainApiError(http(500, null, 'POST', '/apps/my-app/releases'), { ...context, doing: 'rolling back to v3' });
    assert.equal(
      write.message,
      "Heroku's API failed while rolling back to v3 (500 : error message). Heroku may be having an incident (https://status.heroku.com): re-run the job later, after checking with `heroku releases -a my-app` whether the change was made.",
    );
  });

  it('on a 5xx of a change to no app in particular, names the releases command without an app', () => {
    const error = explainApiError(http(502, null, 'POST', '/pipeline-promotions'), {
      doing: 'promoting',
      apiUrl: 'https://api.heroku.com',
    });
    assert.match(error.message, /re-run the job later, after checking with `heroku releases` whether the change was made\.$/);
  });

  it('quotes any other refusal with where it happened', () => {
    const error = explainApiError(http(422, 'invalid_params', 'PATCH', '/apps/my-app/formation'), {
      ...context,
      doing: 'scaling worker to 0',
    });
    assert.deepEqual(
      [error.kind, error.message],
      [
        'api',
        'Heroku refused PATCH /apps/my-app/formation while scaling worker to 0 (422 invalid_params: invalid_params message).',
      ],
    );
    assert.equal(
      explainApiError(http(409, null, 'POST', '/apps/my-app/releases'), context).message,
      'Heroku refused POST /apps/my-app/releases while reading the app my-app (409 : error message).',
      'no id: nothing in its place',
    );
  });
});
