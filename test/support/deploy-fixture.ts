// What every HerokuDeploy task test needs: a local Heroku, fresh apps, sample repositories, and a
// way to run the built task against them as the agent would.
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator';
import { runAgentTask, type AgentResult, type AgentRun } from './agent';
import { herokuApi, type ReleaseBody } from './heroku-api';
import { makeRepo, type Repo } from './git';

let counter = 0;

export class DeployFixture {
  private emulator: Emulator | undefined;

  /**
   * A fixture for the enclosing `describe`: the local Heroku starts before its tests, its faults
   * are reset after each test, and it stops after them.
   */
  static forSuite(options: EmulatorOptions = {}): DeployFixture {
    const fixture = new DeployFixture();
    before(async () => {
      fixture.emulator = await startEmulator(options);
    });
    afterEach(() => fixture.emulator?.faults.reset());
    after(async () => {
      await fixture.emulator?.stop();
    });
    return fixture;
  }

  get heroku(): Emulator {
    if (!this.emulator) throw new Error('the local Heroku is not started: use DeployFixture.forSuite() in a describe');
    return this.emulator;
  }

  get api(): ReturnType<typeof herokuApi> {
    return herokuApi(this.heroku.apiUrl, this.heroku.apiKey);
  }

  /** A new app with a unique name. */
  async newApp(prefix = 'app'): Promise<string> {
    const name = `${prefix}-${process.pid % 1000}-${++counter}`.slice(0, 30).replace(/-+$/, '');
    await this.heroku.createApp(name);
    return name;
  }

  /** The sample app in a new repository, checked out as a detached HEAD (as the agent does). */
  async newRepo(files?: Record<string, string>): Promise<Repo> {
    const repo = await makeRepo(files ? { files } : {});
    await repo.git('checkout', '--quiet', '--detach');
    return repo;
  }

  /** Runs the built HerokuDeploy task against `app` from `repo`, with a secret-variable key by default. */
  deploy(app: string, repo: Repo, run: Omit<AgentRun, 'cwd'> & { cwd?: string } = {}): Promise<AgentResult> {
    return runAgentTask({
      ...run,
      cwd: run.cwd ?? repo.dir,
      inputs: { appName: app, apiKey: this.heroku.apiKey, ...run.inputs },
      variables: {
        HEROKU_API_URL: this.heroku.apiUrl,
        HEROKU_GIT_URL: this.heroku.gitUrl,
        'System.DefaultWorkingDirectory': repo.dir,
        ...run.variables,
      },
    });
  }

  async releases(app: string): Promise<ReleaseBody[]> {
    return (await this.api.get<ReleaseBody[]>(`/apps/${app}/releases`)).body;
  }

  async slugCommit(app: string, slugId: string): Promise<string | null> {
    return (await this.api.get<{ commit: string | null }>(`/apps/${app}/slugs/${slugId}`)).body.commit;
  }

  /** What the app's web process answers at `/` (straight to its router). */
  async fetchApp(app: string, path = '/'): Promise<{ status: number; text: string }> {
    const response = await fetch(new URL(path, this.heroku.routerUrl(app)));
    return { status: response.status, text: await response.text() };
  }
}

/** A failed run's explanation, for assertion messages. */
export function describeRun(result: AgentResult): string {
  return `result=${result.result} message=${result.message}\n--- log ---\n${result.log}\n--- stderr ---\n${result.stderr}`;
}
