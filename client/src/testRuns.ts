/**
 * The developer's own test runs as evidence: "Winnow: Run Tests" runs `winnow.tests.command`
 * (for example `pytest -q` or `npm test`) as a VS Code task in the workspace, and any task in
 * VS Code's test group counts too. When one ends, every completion accepted since the last
 * run gets a `test_outcome` event: passed when the run exited 0. VS Code does not say which
 * files a test run touched, so "since the last run, in this window" is the link (documented
 * in docs/feedback-events.md). Never runs anything in an untrusted workspace.
 */
import * as vscode from 'vscode';
import type { FeedbackParams, ItemRef } from '../../server/src/protocol';

const TASK_SOURCE = 'Winnow';

export class TestRuns implements vscode.Disposable {
  /** Accepted since the last test run, by candidate id. */
  private readonly accepted = new Map<string, ItemRef>();
  private readonly ours = new Set<vscode.TaskExecution>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    onDidSendFeedback: vscode.Event<FeedbackParams>,
    private readonly send: (p: FeedbackParams) => void,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      onDidSendFeedback((p) => {
        if (p.kind === 'accepted' || p.kind === 'partially_accepted') this.accepted.set(p.item.candidateId, p.item);
      }),
      vscode.tasks.onDidEndTaskProcess((e) => {
        const task = e.execution.task;
        const mine = this.ours.delete(e.execution);
        if (!mine && task.group?.id !== vscode.TaskGroup.Test.id) return;
        this.finish(e.exitCode ?? null, mine ? commandOf(task) : task.name, mine ? 'winnow.runTests' : 'task');
      }),
    );
  }

  /** How many accepted completions the next test run will be linked to. */
  get pending(): number {
    return this.accepted.size;
  }

  /** "Winnow: Run Tests": starts `winnow.tests.command` as a task; resolves when it has started. */
  async run(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Winnow runs tests only in a trusted workspace.').then(undefined, () => undefined);
      return;
    }
    const command = vscode.workspace.getConfiguration('winnow').get<string>('tests.command', '').trim();
    if (!command) {
      const open = 'Open Settings';
      const choice = await vscode.window.showInformationMessage('Set winnow.tests.command to the command that runs your tests (for example "pytest -q" or "npm test").', open);
      if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', 'winnow.tests.command');
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const task = new vscode.Task(
      { type: 'shell', winnow: 'tests' },
      folder ?? vscode.TaskScope.Workspace,
      'tests',
      TASK_SOURCE,
      new vscode.ShellExecution(command),
    );
    task.group = vscode.TaskGroup.Test;
    this.log.info(`running tests: ${command} (${this.accepted.size} accepted completion(s) to link)`);
    // Registered before the task can end, so that a fast run is not missed.
    const execution = await vscode.tasks.executeTask(task);
    this.ours.add(execution);
  }

  private finish(exitCode: number | null, command: string, source: 'winnow.runTests' | 'task'): void {
    const passed = exitCode === 0;
    const items = [...this.accepted.values()];
    this.accepted.clear();
    this.log.info(`test run "${command}" ${passed ? 'passed' : `failed (exit ${String(exitCode)})`}: linked to ${items.length} accepted completion(s)`);
    for (const item of items) {
      this.send({ kind: 'test_outcome', item, time: Date.now(), data: { passed, exitCode, command, source } });
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function commandOf(task: vscode.Task): string {
  const ex = task.execution;
  return ex instanceof vscode.ShellExecution ? (ex.commandLine ?? String(ex.command)) : task.name;
}
