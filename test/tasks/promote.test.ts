// HerokuPromote@1, run as the agent runs it (the built bundle, as a child process) against the local
// Heroku's pipelines: one target, several, the next stage found from the couplings, the expected
// commit guard, targets already at the commit, a failing target, a health check that rolls one
// target back, the commits listed from the checkout — and every bad setup refused before anything changes.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { runAgentTask, type AgentResult } from '../support/agent';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import { pushOk, SERVER_READING_BROKEN } from '../support/emulator';
import { tempDir, type Repo } from '../support/git';

type Stage = 'review' | 'development' | 'staging' | 'production' | 'test';

interface PromotionTarget {
  app: { id: string };
  status: string;
}

const short = (sha: string): string => sha.slice(0, 8);

/** A release command that fails where the config var MIGRATION_FAILS is set. */
const PROCFILE_WITH_MIGRATION = `web: node server.js
release: node -e "if (process.env.MIGRATION_FAILS) { console.log('migration failed: column already exists'); process.exit(1) } console.log('migrated')"
`;

describe('HerokuPromote@1', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  /** The app's web_url hosts are reachable only through the emulator's proxy, as through an agent's. */
  const throughProxy = (): Record<string, string> => ({
    'Agent.ProxyUrl': fx.heroku.proxyUrl,
    'Agent.ProxyBypassList': '["127\\\\.0\\\\.0\\\\.1"]',
  });

  /** Runs the built task with a secret-variable key; `cwd` is the checkout (an empty folder by default: a deployment job). */
  async function promote(inputs: Record<string, string>, cwd?: string): Promise<AgentResult> {
    const dir = cwd ?? (await tempDir('deployment-job-'));
    return runAgentTask({
      task: 'HerokuPromoteV1',
      cwd: dir,
      inputs: { apiKey: fx.heroku.apiKey, ...inputs },
      variables: { HEROKU_API_URL: fx.heroku.apiUrl, 'System.DefaultWorkingDirectory': dir, ...throughProxy() },
    });
  }

  /** A new pipeline with `stages` (stage -> app names). */
  async function pipeline(stages: Partial<Record<Stage, string[]>>): Promise<string> {
    const created = await fx.api.post<{ id: string }>('/pipelines', {
      name: `flow-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const [stage, apps] of Object.entries(stages)) {
      for (const app of apps) {
        const coupling = await fx.api.post('/pipeline-couplings', { app, pipeline: created.body.id, stage });
        assert.equal(coupling.status, 201, JSON.stringify(coupling.body));
      }
    }
    return created.body.id;
  }

  /** A raw git push of `ref` to the app (a deploy from elsewhere). */
  async function push(app: string, repo: Repo, ref = 'HEAD'): Promise<void> {
    await pushOk(repo, `${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, `${ref}:refs/heads/main`);
  }

  async function current(app: string): Promise<{ version: number; description: string; slug: string | null }> {
    const live = (await fx.releases(app)).find((r) => r.current);
    assert.ok(live, `${app} has a live release`);
    return { version: live.version, description: live.description, slug: live.slug?.id ?? null };
  }

  const promotionsCreated = (): number =>
    fx.heroku.api.requests.filter((r) => r.method === 'POST' && r.path === '/pipeline-promotions').length;

  it('promotes the very slug staging runs to one target, with the commits in between listed, and reports it', async () => {
    const [staging, production] = [await fx.newApp('stg'), await fx.newApp('prod')];
    await pipeline({ staging: [staging], production: [production] });
    const repo = await fx.newRepo();
    const live = await repo.head();
    await push(production, repo); // production runs the sample app (v3)
    const sha = await repo.commit('Say hello from staging', { 'message.txt': 'promoted from staging\n' });
    await push(staging, repo);
    const stagingSlug = (await current(staging)).slug;

    const result = await promote({ sourceApp: staging, targetApps: production, expectedCommit: sha }, repo.dir);
    assert.equal(result.result, 'Succeeded', describeRun(result));

    const promoted = await current(production);
    assert.deepEqual(
      promoted,
      { version: 4, description: `Promote ${staging} v3 ${short(sha)}`, slug: stagingSlug },
      'the same slug, not a rebuild',
    );
    assert.equal((await fx.fetchApp(production)).text, 'promoted from staging\n', 'the promoted code answers');
    assert.match(result.outputs.promotionId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(result.outputs, {
      promotionId: result.outputs.promotionId,
      releaseVersions: `${production}:4`,
      commit: sha,
    });

    assert.match(result.log, new RegExp(`^${staging} v3 runs the expected commit ${short(sha)}\\.$`, 'm'));
    assert.match(
      result.log,
      new RegExp(
        `^${production} \\(production\\) runs v3, commit ${short(live)}; ${staging} runs v3, commit ${short(sha)}\\.$`,
        'm',
      ),
    );
    assert.match(
      result.log,
      new RegExp(
        `^1 commit to promote to ${production} \\(${short(live)}\\.\\.${short(sha)}\\):\\n {2}${short(sha)} {2}\\d{4}-\\d\\d-\\d\\d {2}Say hello from staging {2}\\(Test Author\\)$`,
        'm',
      ),
    );
    assert.match(result.log, new RegExp(`^Promoted ${staging} v3 \\(commit ${short(sha)}\\) · ${production} v4 · \\d+s$`, 'm'));

    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    assert.match(summary, /### Heroku promote: /);
    assert.match(
      summary,
      new RegExp(
        `\\| \\[${production}\\]\\([^)]+\\) \\| production \\| v3 \`${short(live)}\` \\| v4 \`${short(sha)}\` \\| 1 new \\| ✅ promoted \\|`,
      ),
    );
    assert.ok(result.secrets.includes(fx.heroku.apiKey), 'the key is registered as a secret');
    assert.ok(!`${result.printed}\n${result.stderr}`.includes(fx.heroku.apiKey), 'the key is not in the log');
  });

  it('promotes to several targets, health checks each through the proxy, and shows the two commits alone without a checkout', async () => {
    const [staging, us, eu] = [await fx.newApp('stg'), await fx.newApp('prod-us'), await fx.newApp('prod-eu')];
    await pipeline({ staging: [staging], production: [us, eu] });
    const repo = await fx.newRepo();
    const live = await repo.head();
    await push(us, repo);
    await push(eu, repo);
    const sha = await repo.commit('New greeting', { 'message.txt': 'new greeting\n' });
    await push(staging, repo);

    const result = await promote({
      sourceApp: staging,
      targetApps: `${us}, ${eu}`,
      healthCheckUrl: '/health',
      healthCheckExpectedText: 'ok',
      healthCheckTimeout: '20',
      healthCheckInterval: '1',
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.equal(result.outputs.releaseVersions, `${us}:4,${eu}:4`);
    for (const app of [us, eu]) {
      assert.equal((await current(app)).description, `Promote ${staging} v3 ${short(sha)}`);
      assert.match(result.stdout, new RegExp(`##\\[group\\]Health check of ${app} v4`));
    }
    assert.match(
      result.log,
      new RegExp(
        `The commits in between are not listed: \\S+ is not a git checkout \\(a deployment job checks out nothing unless it has a \`checkout: self\` step\\)\\. Promoting ${short(live)} -> ${short(sha)}\\.`,
      ),
    );
    assert.match(
      result.log,
      new RegExp(
        `^Promoted ${staging} v3 \\(commit ${short(sha)}\\) · ${us} v4 healthy \\(200\\) · ${eu} v4 healthy \\(200\\) · \\d+s$`,
        'm',
      ),
    );
    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    for (const app of [us, eu])
      assert.match(
        summary,
        new RegExp(
          `\\| \\[${app}\\]\\([^)]+\\) \\| production \\| v3 .* \\| v4 .* \\| not listed \\(no history\\) \\| ✅ promoted — health check 200 \\|`,
        ),
      );
  });

  it('promotes to the next stage that has apps when no target is named (development -> production past an empty staging)', async () => {
    const [dev, review, one, two] = [
      await fx.newApp('dev'),
      await fx.newApp('review'),
      await fx.newApp('prod-one'),
      await fx.newApp('prod-two'),
    ];
    await pipeline({ review: [review], development: [dev], production: [one, two] });
    const repo = await fx.newRepo();
    const sha = await repo.head();
    await push(dev, repo);
    const reviewReleases = (await fx.releases(review)).length;

    const result = await promote({ sourceApp: dev }, repo.dir);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.match(
      result.log,
      new RegExp(`^No targetApps given: promoting to the next stage downstream, production: ${one}, ${two}\\.$`, 'm'),
    );
    assert.match(result.log, new RegExp(`^${one} has never run code: the promotion gives it its first release of code\\.$`, 'm'));
    assert.equal(result.outputs.releaseVersions, `${one}:3,${two}:3`);
    assert.equal(result.outputs.commit, sha);
    for (const app of [one, two]) assert.equal((await current(app)).description, `Promote ${dev} v3 ${short(sha)}`);
    assert.equal((await fx.releases(review)).length, reviewReleases, 'the review app is not downstream');
  });

  it('refuses, before anything changes, when the source does not run expectedCommit', async () => {
    const [staging, production] = [await fx.newApp('stg'), await fx.newApp('prod')];
    await pipeline({ staging: [staging], production: [production] });
    const repo = await fx.newRepo();
    const tested = await repo.head();
    await push(production, repo);
    const pushedMeanwhile = await repo.commit('Pushed by someone else after the tests');
    await push(staging, repo);
    const before = await fx.releases(production);
    const promotions = promotionsCreated();

    const result = await promote({ sourceApp: staging, targetApps: production, expectedCommit: tested }, repo.dir);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.equal(
      result.message,
      `Refusing to promote: ${staging} runs v3 with commit ${short(pushedMeanwhile)}, not the expected ${short(tested)} (expectedCommit). Something else was deployed to ${staging} after the build this pipeline tested, or its deploy did not go live. Nothing was promoted. Re-run the pipeline to deploy and test ${short(tested)} again, or set expectedCommit to what ${staging} runs if that is what you mean to promote.`,
    );
    assert.equal(promotionsCreated(), promotions, 'no promotion was created');
    assert.deepEqual(await fx.releases(production), before, 'production is untouched');
    assert.match(await fs.readFile(result.summaries[0]!, 'utf8'), /\*\*Failed:\*\* Refusing to promote/);

    // An abbreviated SHA (7 digits, any case: the README accepts it) is checked just the same.
    const abbreviated = await promote(
      { sourceApp: staging, targetApps: production, expectedCommit: tested.slice(0, 7).toUpperCase() },
      repo.dir,
    );
    assert.equal(abbreviated.result, 'Failed', describeRun(abbreviated));
    assert.match(
      abbreviated.message,
      new RegExp(
        `^Refusing to promote: ${staging} runs v3 with commit ${short(pushedMeanwhile)}, not the expected ${tested.slice(0, 7)} `,
      ),
    );
    assert.equal(promotionsCreated(), promotions, 'no promotion was created');
  });

  it('names the targets already at the commit, promotes only the others, and creates nothing when all are', async () => {
    const [staging, ahead, behind] = [await fx.newApp('stg'), await fx.newApp('prod-same'), await fx.newApp('prod-old')];
    await pipeline({ staging: [staging], production: [ahead, behind] });
    const repo = await fx.newRepo();
    await push(behind, repo);
    const sha = await repo.commit('Already out on one app', { 'message.txt': 'same\n' });
    await push(staging, repo);
    await push(ahead, repo);

    const first = await promote({ sourceApp: staging }, repo.dir);
    assert.equal(first.result, 'Succeeded', describeRun(first));
    assert.match(
      first.log,
      new RegExp(
        `^${ahead} is already at ${short(sha)}, the same commit: it is left out of the promotion \\(no new release\\)\\.$`,
        'm',
      ),
    );
    assert.match(
      first.log,
      new RegExp(
        `^Promoted ${staging} v3 \\(commit ${short(sha)}\\) · ${ahead} already at this commit \\(v3\\) · ${behind} v4 · \\d+s$`,
        'm',
      ),
    );
    const targets = (await fx.api.get<PromotionTarget[]>(`/pipeline-promotions/${first.outputs.promotionId}/promotion-targets`))
      .body;
    assert.equal(targets.length, 1, 'only the app behind is in the promotion');
    assert.equal(first.outputs.releaseVersions, `${ahead}:3,${behind}:4`);

    const promotions = promotionsCreated();
    const again = await promote({ sourceApp: staging }, repo.dir);
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assert.match(
      again.log,
      new RegExp(
        `^Nothing to promote: every target already runs ${staging} v3 \\(commit ${short(sha)}\\) · ${ahead} already at this commit \\(v3\\) · ${behind} already at this commit \\(v4\\) · \\d+s$`,
        'm',
      ),
    );
    assert.match(again.log, /no promotion was created and no release was made/);
    assert.deepEqual(again.outputs, { promotionId: '', releaseVersions: `${ahead}:3,${behind}:4`, commit: sha });
    assert.equal(promotionsCreated(), promotions, 'no promotion was created');
    assert.match(
      await fs.readFile(again.summaries[0]!, 'utf8'),
      /\| Result \| Nothing to promote: every target already runs this commit/,
    );
  });

  it('fails naming the target whose release phase failed, with its output, and reports the target that succeeded', async () => {
    const [staging, good, bad] = [await fx.newApp('stg'), await fx.newApp('prod-good'), await fx.newApp('prod-bad')];
    await pipeline({ staging: [staging], production: [good, bad] });
    assert.equal((await fx.api.patch(`/apps/${bad}/config-vars`, { MIGRATION_FAILS: '1' })).status, 200);
    const kept = (await current(bad)).version;
    const repo = await fx.newRepo();
    const sha = await repo.commit('Add a migration', { Procfile: PROCFILE_WITH_MIGRATION });
    await push(staging, repo);

    const result = await promote({ sourceApp: staging }, repo.dir);
    assert.equal(result.result, 'Failed', describeRun(result));
    const made = kept + 1;
    assert.match(
      result.message,
      new RegExp(
        `^The promotion to ${bad} failed: Release command failed for ${bad} v${made}\\. Heroku kept v${kept} live on ${bad}\\. Its release phase output is above \\(\`heroku releases:output ${made} -a ${bad}\`\\)\\. Fix the cause and run the promotion again\\. ${good} was promoted \\(v3\\)\\.$`,
      ),
    );
    assert.match(result.log, /migration failed: column already exists/, "the failing release command's output is in the log");
    assert.match(
      result.log,
      new RegExp(
        `^Promotion of ${staging} v3 \\(commit ${short(sha)}\\) failed on ${bad} · ${good} v3 · ${bad} FAILED \\(v${made} failed\\), v${kept} kept · \\d+s$`,
        'm',
      ),
    );
    assert.deepEqual(Object.keys(result.outputs).sort(), ['commit', 'promotionId', 'releaseVersions']);
    assert.equal(result.outputs.releaseVersions, `${good}:3,${bad}:${kept}`);
    assert.equal(result.outputs.commit, sha);
    // The promotion that ran, though a target failed: Heroku knows it by that id, with both targets.
    const targets = await fx.api.get<PromotionTarget[]>(`/pipeline-promotions/${result.outputs.promotionId}/promotion-targets`);
    assert.equal(targets.status, 200, `promotionId "${result.outputs.promotionId}" names the promotion`);
    assert.deepEqual(targets.body.map((t) => t.status).sort(), ['failed', 'succeeded']);
    assert.equal((await current(good)).description, `Promote ${staging} v3 ${short(sha)}`);
    assert.equal((await current(bad)).version, kept, 'Heroku kept the previous release live');
    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    assert.match(summary, new RegExp(`\\| Result \\| \\*\\*Failed\\*\\* on ${bad} \\|`));
    assert.match(summary, new RegExp(`\\| \\[${good}\\]\\(.* ✅ promoted \\|`));
    assert.match(summary, new RegExp(`\\| \\[${bad}\\]\\(.* ❌ failed — The promotion to ${bad} failed`));
  });

  it('rolls back only the target that fails its health check, and proves the rollback answers', async () => {
    const [staging, healthy, broken] = [await fx.newApp('stg'), await fx.newApp('prod-ok'), await fx.newApp('prod-broken')];
    await pipeline({ staging: [staging], production: [healthy, broken] });
    const repo = await fx.newRepo();
    await push(healthy, repo);
    await push(broken, repo);
    // The old code ignores BROKEN; the new code reads it at /health.
    assert.equal((await fx.api.patch(`/apps/${broken}/config-vars`, { BROKEN: '1' })).status, 200);
    const before = (await current(broken)).version;
    const sha = await repo.commit('Check the database at /health', { 'server.js': SERVER_READING_BROKEN });
    await push(staging, repo);

    const result = await promote(
      { sourceApp: staging, healthCheckUrl: '/health', healthCheckTimeout: '3', healthCheckInterval: '1' },
      repo.dir,
    );
    assert.equal(result.result, 'Failed', describeRun(result));
    const promoted = before + 1;
    const rolled = before + 2;
    assert.match(
      result.message,
      new RegExp(
        `^v${promoted} of ${broken} \\(commit ${short(sha)}\\) failed its health check: http://\\S+/health last answered 500 after \\d+ ms \\(expected 200; body: database unreachable\\) within 3 s\\. Rolled back to v${before} \\(now live as v${rolled}\\), which answers healthy\\. Fix the failure \\(the app's logs are above\\) and promote again\\. ${healthy} was promoted \\(v4\\)\\.$`,
      ),
    );
    assert.match(
      result.log,
      new RegExp(
        `^Promotion of ${staging} v3 \\(commit ${short(sha)}\\) failed on ${broken} · ${healthy} v4 healthy \\(200\\) · ${broken} v${promoted} unhealthy, rolled back to v${before} \\(now v${rolled}\\) · \\d+s$`,
        'm',
      ),
    );
    assert.match(result.stdout, new RegExp(`##\\[group\\]Recent logs of ${broken}`));
    assert.deepEqual(await current(broken), {
      version: rolled,
      description: `Rollback to v${before}`,
      slug: (await fx.releases(broken)).find((r) => r.version === before)?.slug?.id ?? null,
    });
    assert.equal((await fx.fetchApp(broken, '/health')).text, 'ok\n', 'the release from before answers');
    assert.equal(
      (await current(healthy)).description,
      `Promote ${staging} v3 ${short(sha)}`,
      'the healthy target keeps the promotion',
    );
    assert.equal(result.outputs.releaseVersions, `${healthy}:4,${broken}:${rolled}`);
    assert.match(
      await fs.readFile(result.summaries[0]!, 'utf8'),
      new RegExp(`\\| \\[${broken}\\]\\(.* ↩️ unhealthy, rolled back — health check 200: v${promoted} of ${broken}`),
    );
  });

  it('lists the commits promoted, newest first, and warns about commits a target would lose', async () => {
    const [staging, behind, hotfixed] = [await fx.newApp('stg'), await fx.newApp('prod-behind'), await fx.newApp('prod-hotfix')];
    await pipeline({ staging: [staging], production: [behind, hotfixed] });
    const repo = await fx.newRepo();
    const base = await repo.head();
    await push(behind, repo);
    await repo.git('checkout', '--quiet', '-b', 'hotfix');
    const hotfix = await repo.commit('Hotfix straight to production', { 'message.txt': 'hotfix\n' });
    await push(hotfixed, repo);
    await repo.git('checkout', '--quiet', '--detach', base);
    const commits = [
      await repo.commit('First feature', { 'a.txt': '1' }),
      await repo.commit('Second feature', { 'b.txt': '2' }),
      await repo.commit('Third feature', { 'c.txt': '3' }),
    ];
    await push(staging, repo);
    const head = commits[2]!;

    const result = await promote({ sourceApp: staging }, repo.dir);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const lines = (sha: string, subject: string): string =>
      ` {2}${short(sha)} {2}\\d{4}-\\d\\d-\\d\\d {2}${subject} {2}\\(Test Author\\)`;
    const listed = [
      lines(commits[2]!, 'Third feature'),
      lines(commits[1]!, 'Second feature'),
      lines(commits[0]!, 'First feature'),
    ].join('\\n');
    assert.match(
      result.log,
      new RegExp(`^3 commits to promote to ${behind} \\(${short(base)}\\.\\.${short(head)}\\):\\n${listed}$`, 'm'),
    );
    assert.match(
      result.log,
      new RegExp(`^3 commits to promote to ${hotfixed} \\(${short(hotfix)}\\.\\.${short(head)}\\):\\n${listed}$`, 'm'),
    );
    assert.ok(
      result.warnings.includes(
        `${hotfixed} runs 1 commit that ${staging}'s ${short(head)} does not have: the promotion takes it out of ${hotfixed}.`,
      ),
      result.warnings.join('\n'),
    );
    assert.match(result.log, new RegExp(`^${lines(hotfix, 'Hotfix straight to production')}$`, 'm'));
    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    assert.match(summary, new RegExp(`\\| \\[${behind}\\]\\(.*\\| 3 new \\|`));
    assert.match(summary, new RegExp(`\\| \\[${hotfixed}\\]\\(.*\\| 3 new, 1 taken out \\|`));
  });

  describe('refusals, each before anything changes', () => {
    let staging: string;
    let production: string;
    let europe: string;
    let loner: string;

    before(async () => {
      [staging, production, europe, loner] = [
        await fx.newApp('stg'),
        await fx.newApp('prod'),
        await fx.newApp('prod-eu'),
        await fx.newApp('loner'),
      ];
      await pipeline({ staging: [staging], production: [production, europe] });
    });

    async function refused(
      inputs: Record<string, string>,
      pattern: RegExp,
      options: { noApiCall?: boolean } = {},
    ): Promise<AgentResult> {
      const requests = fx.heroku.api.requests.length;
      const promotions = promotionsCreated();
      const result = await promote(inputs);
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, pattern);
      assert.equal(promotionsCreated(), promotions, 'no promotion was created');
      assert.ok(!fx.heroku.api.requests.slice(requests).some((r) => r.method !== 'GET'), 'nothing but reads reached Heroku');
      if (options.noApiCall) assert.equal(fx.heroku.api.requests.length, requests, 'no Platform API request was made');
      return result;
    }

    it('refuses bad input values without a single API call', async () => {
      await refused({ sourceApp: 'My_Staging' }, /"My_Staging" is not a valid Heroku app name/, { noApiCall: true });
      await refused({ sourceApp: '' }, /The input sourceApp is empty: give the name of the Heroku app to promote from/, {
        noApiCall: true,
      });
      await refused({ sourceApp: staging, targetApps: `${production}, Prod_EU` }, /"Prod_EU" is not a valid Heroku app name/, {
        noApiCall: true,
      });
      await refused(
        { sourceApp: staging, expectedCommit: 'main' },
        /The input expectedCommit is "main", which is not a commit SHA/,
        { noApiCall: true },
      );
      await refused(
        { sourceApp: staging, expectedCommit: '$(deploy.commit)' },
        /the pipeline variable deploy\.commit is not defined/,
        { noApiCall: true },
      );
      await refused(
        { sourceApp: staging, healthCheckUrl: '/health', healthCheckTimeout: 'soon' },
        /healthCheckTimeout is "soon"/,
        { noApiCall: true },
      );
    });

    it('says when the source is in no pipeline', async () => {
      await refused(
        { sourceApp: loner },
        new RegExp(
          `^${loner} is not in a Heroku pipeline, so there is no pipeline to promote it along\\. Add it to one \\(\`heroku pipelines:add <pipeline> -a ${loner} --stage staging\``,
        ),
      );
    });

    it('says when a target is outside the pipeline, listing the pipeline by stage', async () => {
      await refused(
        { sourceApp: staging, targetApps: `${production} ${loner}` },
        new RegExp(
          `^${loner} is not in the pipeline \\S+, so ${staging} cannot be promoted to it: .* The pipeline has development: none; staging: ${staging}; production: ${production}, ${europe}\\.`,
        ),
      );
    });

    it('says when the source is its own target, or nothing is downstream of it', async () => {
      await refused(
        { sourceApp: staging, targetApps: staging },
        new RegExp(`^targetApps includes ${staging}, the source app: an app cannot be promoted to itself`),
      );
      await refused(
        { sourceApp: production },
        new RegExp(
          `^${production} is in the production stage of \\S+, the last stage: nothing is downstream of it\\. .*Name the apps to promote to in targetApps`,
        ),
      );
    });

    it('refuses one full health check URL for several targets', async () => {
      await refused(
        { sourceApp: staging, healthCheckUrl: 'https://example.com/health' },
        new RegExp(
          `^healthCheckUrl is a full URL \\(https://example\\.com/health\\), but there are 2 targets \\(${production}, ${europe}\\): one URL cannot check them all\\. Give a path such as /health`,
        ),
      );
    });
  });
});
