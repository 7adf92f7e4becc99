/**
 * Consent for running candidate code. Winnow may run candidates (model output) against the
 * examples in the docstring above the cursor, to rank the ones that pass first: only in a
 * trusted workspace, only inside the engine's sandbox, and only once the user said yes. With
 * `winnow.execution.enabled` = `ask` (the default) the first suggestion in a trusted workspace
 * brings one question, which explains what would run and how it is contained; the answer is
 * saved in the user's settings. Also relays workspace trust to the server.
 */
import * as vscode from 'vscode';
import { WorkspaceTrustNotification, type WorkspaceTrustParams } from '../../server/src/protocol';

/** What running candidates means, as the one-time question and the walkthrough's choice say it. */
export const EXECUTION_CONSENT =
  "Winnow can rank suggestions better by running each candidate against the examples in the docstring above your cursor (like >>> f(2) followed by 4). Candidates are your model's code: they would run in a sandbox (a temporary folder, no network, time and memory limits), and never in an untrusted workspace.";

export class ExecutionConsent implements vscode.Disposable {
  private asked = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly notifyServer: (p: WorkspaceTrustParams) => void,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.log.info('workspace trusted: Winnow may run candidates when allowed (winnow.execution.enabled)');
        this.notifyServer({ trusted: true });
      }),
    );
  }

  /** Called when suggestions arrive: asks once, when the setting says `ask` and the workspace is trusted. */
  maybeAsk(): void {
    if (this.asked || !vscode.workspace.isTrusted) return;
    const setting = vscode.workspace.getConfiguration('winnow').get<string>('execution.enabled', 'ask');
    if (setting !== 'ask') return;
    this.asked = true;
    const allow = 'Allow';
    const never = "Don't Run Code";
    void vscode.window
      // A toast shows no `detail`: what runs and how it is contained is said in the message.
      .showInformationMessage(EXECUTION_CONSENT, allow, never)
      .then(async (choice) => {
        if (!choice) {
          this.asked = false; // dismissed: ask again another time
          return;
        }
        const value = choice === allow ? 'on' : 'off';
        await vscode.workspace.getConfiguration('winnow').update('execution.enabled', value, vscode.ConfigurationTarget.Global);
        this.log.info(`winnow.execution.enabled set to ${value} by the user`);
      }, (err: unknown) => this.log.error(`execution question: ${String(err)}`));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
