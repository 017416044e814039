// Fetching the CLI's manifests and tarball: through the agent's proxy and CA, each request with a
// deadline for the whole answer and a size cap, stopped by a cancel; the tarball's SHA-256 computed
// as it is written. No key is ever sent: these are public files.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TaskError, cancelled, errorMessage } from '../base/errors';
import { isAxiosError, loadHttp } from '../base/http-loader';
import type { NetworkSettings } from '../base/network';

export interface Limits {
  jsonTimeoutMs: number;
  jsonMaxBytes: number;
  fileTimeoutMs: number;
  fileMaxBytes: number;
}

export const LIMITS: Limits = {
  jsonTimeoutMs: 30_000,
  jsonMaxBytes: 10 * 1024 * 1024,
  fileTimeoutMs: 15 * 60_000,
  fileMaxBytes: 500 * 1024 * 1024,
};

export interface Fetcher {
  /** A JSON document; `what` names it in errors (`the stable channel's build manifest`). */
  json(url: string, what: string): Promise<unknown>;
  /** Downloads `url` to `file`; returns its SHA-256 (hex) and size. */
  file(url: string, file: string, what: string): Promise<{ sha256: string; bytes: number }>;
}

const MIRROR_HINT =
  "If the agent cannot reach Heroku's downloads, set the pipeline variable HEROKU_CLI_ASSETS_URL to a mirror of https://cli-assets.heroku.com, or install the CLI on the agent and leave cliVersion empty.";

function failure(
  error: unknown,
  what: string,
  url: string,
  signal: AbortSignal,
  deadline: AbortSignal,
  timeoutMs: number,
): TaskError {
  if (error instanceof TaskError) return error;
  if (signal.aborted) return cancelled(`downloading ${what}`);
  if (isAxiosError(error) && error.response)
    return new TaskError(
      error.response.status === 404 ? 'not-found' : 'network',
      `Could not download ${what}: ${url} answered ${error.response.status}. ${error.response.status === 404 ? "Check cliVersion (the version must exist for this agent's platform) and HEROKU_CLI_ASSETS_URL. " : ''}${MIRROR_HINT}`,
    );
  const timedOut = deadline.aborted;
  return new TaskError(
    'network',
    timedOut
      ? `Could not download ${what}: ${url} did not answer in full within ${Math.round(timeoutMs / 1000)} s. Re-run the job; ${MIRROR_HINT}`
      : `Could not download ${what} from ${url}: ${errorMessage(error)}. ${MIRROR_HINT}`,
  );
}

export function fetcher(network: NetworkSettings, signal: AbortSignal, limits: Limits = LIMITS): Fetcher {
  const client = async (url: string) => {
    const { axios, httpTransport } = await loadHttp();
    return axios.create({ ...httpTransport(url, network), maxRedirects: 5, validateStatus: (s) => s === 200 });
  };
  return {
    async json(url, what) {
      const deadline = AbortSignal.timeout(limits.jsonTimeoutMs);
      const both = AbortSignal.any([signal, deadline]);
      let text: string;
      try {
        const response = await (
          await client(url)
        ).get<string>(url, {
          signal: both,
          responseType: 'text',
          transformResponse: (body: string) => body,
          maxContentLength: limits.jsonMaxBytes,
        });
        text = response.data;
      } catch (error) {
        throw failure(error, what, url, signal, deadline, limits.jsonTimeoutMs);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new TaskError(
          'network',
          `${what} at ${url} is not JSON: something that is not Heroku's download server answered (a login page, a wrong HEROKU_CLI_ASSETS_URL?). ${MIRROR_HINT}`,
        );
      }
    },

    async file(url, file, what) {
      const deadline = AbortSignal.timeout(limits.fileTimeoutMs);
      const both = AbortSignal.any([signal, deadline]);
      const hash = createHash('sha256');
      let bytes = 0;
      try {
        const response = await (await client(url)).get<Readable>(url, { signal: both, responseType: 'stream' });
        const announced = Number(response.headers['content-length'] ?? NaN);
        if (announced > limits.fileMaxBytes) {
          response.data.destroy();
          throw new TaskError(
            'network',
            `${what} at ${url} is ${Math.round(announced / 1048576)} MB, more than the ${Math.round(limits.fileMaxBytes / 1048576)} MB a Heroku CLI tarball can be: check HEROKU_CLI_ASSETS_URL.`,
          );
        }
        response.data.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
          if (bytes > limits.fileMaxBytes)
            response.data.destroy(
              new TaskError(
                'network',
                `${what} at ${url} is larger than the ${Math.round(limits.fileMaxBytes / 1048576)} MB a Heroku CLI tarball can be: check HEROKU_CLI_ASSETS_URL.`,
              ),
            );
        });
        // A cancel or the deadline (both) ends the stream: axios destroys the response of an aborted request.
        await pipeline(response.data, createWriteStream(file));
      } catch (error) {
        throw failure(error, what, url, signal, deadline, limits.fileTimeoutMs);
      }
      return { sha256: hash.digest('hex'), bytes };
    },
  };
}
