/**
 * The VS Code side of feedback capture: turns what the stable API shows an extension into the
 * plain inputs of {@link FeedbackTracker} (./tracker.ts, where the rules are) and sends what it
 * emits as `winnow/feedback` notifications. What each event means and what cannot be observed
 * is in docs/feedback-events.md.
 *
 * Inputs, all stable API:
 * - the inline-completion middleware (client.ts): each list VS Code will apply, with the items'
 *   text and range, and whether the request's editor and cursor are still where it was asked;
 * - `workspace.onDidChangeTextDocument` (contentChanges with offsets, and undo/redo reasons);
 * - `window.onDidChangeTextEditorSelection` of the focused editor, `onDidChangeActiveTextEditor`,
 *   `workspace.onDidCloseTextDocument`;
 * - the item's accept command (ACCEPT_COMMAND), and Winnow's wrappers of VS Code's word
 *   acceptance, line acceptance and hide commands (bound in package.json to Ctrl/Cmd+Right and
 *   Escape while `inlineSuggestionVisible`).
 *
 * Timers (timeouts, survival checks) are one unref'd timeout for the next due time, cleared on
 * dispose; {@link FeedbackAdapter.flush} takes one last survival measurement before the client stops.
 */
import * as vscode from 'vscode';
import type { FeedbackParams, ItemRef } from '../../../server/src/protocol';
import { FeedbackTracker, type CandidateInput, type TextReader, type TrackerOptions } from './tracker';

/** A list the provider returned that VS Code will apply (the middleware checked cancellation and version). */
export interface AppliedInlineCompletions {
  document: vscode.TextDocument;
  position: vscode.Position;
  context: vscode.InlineCompletionContext;
  result: vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined;
}

export interface FeedbackAdapterDeps {
  send(params: FeedbackParams): void;
  log: Pick<vscode.LogOutputChannel, 'debug' | 'warn' | 'error'>;
  /** The ItemRef an item's command carries, if it is one of Winnow's. */
  itemRefOf(command: vscode.Command | undefined): ItemRef | undefined;
}

export const WORD_COMMAND = 'winnow.acceptNextWord';
export const LINE_COMMAND = 'winnow.acceptNextLine';
export const DISMISS_COMMAND = 'winnow.dismissInlineSuggestion';

/**
 * Undocumented setting, for the end-to-end test: `winnow.feedback.timings` =
 * `{ "timeoutMs": number, "survivalMs": number[] }` replaces the 30 s timeout and the
 * 30 s / 2 min / 10 min survival checks.
 */
const TIMINGS_KEY = 'feedback.timings';

export class FeedbackAdapter implements vscode.Disposable {
  private readonly tracker: FeedbackTracker;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt: number | undefined;
  private disposed = false;

  private readonly reader: TextReader = {
    text: (doc, start, end) => {
      const d = vscode.workspace.textDocuments.find((t) => t.uri.toString() === doc);
      return d ? textOf(d, start, end) : undefined;
    },
  };

  constructor(
    private readonly deps: FeedbackAdapterDeps,
    private readonly now: () => number = Date.now,
  ) {
    this.tracker = new FeedbackTracker(this.readTimings());
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.guard('document change', () => this.onChange(e))),
      vscode.window.onDidChangeTextEditorSelection((e) => this.guard('selection change', () => this.onSelection(e))),
      vscode.window.onDidChangeActiveTextEditor((e) => this.guard('editor change', () => this.emit(this.tracker.editorChanged(e?.document.uri.toString(), this.now())))),
      vscode.workspace.onDidCloseTextDocument((d) => this.guard('document close', () => this.onClose(d))),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`winnow.${TIMINGS_KEY}`)) return;
        this.tracker.setOptions(this.readTimings());
        this.schedule();
      }),
    );
  }

  /** From the middleware: a list VS Code will apply. */
  onInlineCompletions(req: AppliedInlineCompletions): void {
    this.guard('inline completions', () => {
      const { document, position, context, result } = req;
      const raw = !result ? [] : Array.isArray(result) ? result : result.items;
      const crlf = document.eol === vscode.EndOfLine.CRLF;
      const items: CandidateInput[] = [];
      let range: vscode.Range | undefined;
      for (const it of raw) {
        const ref = this.deps.itemRefOf(it.command);
        // Snippet items are not followed (their text is not what ends up in the document).
        if (!ref || typeof it.insertText !== 'string') continue;
        const r = it.range ?? new vscode.Range(position, position);
        range ??= r;
        if (!r.isEqual(range)) continue; // Winnow's server gives every item the same range
        items.push({ ref, text: crlf ? it.insertText.replace(/\r?\n/g, '\r\n') : it.insertText });
      }
      const editor = vscode.window.activeTextEditor;
      const displayable =
        editor !== undefined &&
        editor.document === document &&
        editor.selections.length === 1 &&
        editor.selection.isEmpty &&
        editor.selection.active.isEqual(position) &&
        context.selectedCompletionInfo === undefined;
      const start = range?.start ?? position;
      this.emit(
        this.tracker.list(
          {
            doc: document.uri.toString(),
            anchor: document.offsetAt(start),
            initial: range ? document.getText(range) : '',
            cursor: document.offsetAt(position),
            inIndent: document.lineAt(start.line).text.slice(0, start.character).trim() === '',
            items,
            displayable,
            trigger: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke ? 'explicit' : 'automatic',
          },
          this.now(),
        ),
      );
    });
  }

  /** ACCEPT_COMMAND: VS Code accepted the item `ref` (Tab, or a word acceptance that took the rest). */
  onAccept(ref: ItemRef): void {
    this.guard('accept', () => this.emit(this.tracker.accept(ref, this.reader, this.now())));
  }

  /** `winnow.acceptNextWord` (Ctrl/Cmd+Right while ghost text is visible). */
  acceptNextWord(): Promise<void> {
    return this.partial('word', 'editor.action.inlineSuggest.acceptNextWord');
  }

  /** `winnow.acceptNextLine` (no default key; VS Code has none either). */
  acceptNextLine(): Promise<void> {
    return this.partial('line', 'editor.action.inlineSuggest.acceptNextLine');
  }

  /** `winnow.dismissInlineSuggestion` (Escape while ghost text is visible): records, then hides. */
  async dismiss(): Promise<void> {
    this.guard('dismiss', () => this.emit(this.tracker.dismiss(vscode.window.activeTextEditor?.document.uri.toString(), this.now())));
    await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
  }

  /** Deactivation: one last survival measurement of every pending region (best effort). */
  flush(): void {
    this.guard('flush', () => this.emit(this.tracker.flush(this.reader, this.now())));
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private async partial(how: 'word' | 'line', builtin: string): Promise<void> {
    this.tracker.intent(how, this.now());
    try {
      await vscode.commands.executeCommand(builtin);
    } finally {
      // The edit's change event reaches the extension host before the command's reply.
      this.tracker.clearIntent();
    }
  }

  private onChange(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const doc = e.document.uri.toString();
    if (!this.tracker.interestedIn(doc)) return;
    const reason = e.reason === vscode.TextDocumentChangeReason.Undo ? 'undo' : e.reason === vscode.TextDocumentChangeReason.Redo ? 'redo' : undefined;
    // VS Code lists the changes of one event bottom-up, so each offset holds when they are applied in order.
    const changes = e.contentChanges.map((c) => ({ start: c.rangeOffset, end: c.rangeOffset + c.rangeLength, text: c.text }));
    this.emit(this.tracker.change(doc, changes, reason, this.now()));
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.tracker.current || e.textEditor !== vscode.window.activeTextEditor) return;
    const d = e.textEditor.document;
    const sel = e.selections[0];
    if (!sel) return;
    this.emit(
      this.tracker.selection(
        d.uri.toString(),
        { start: d.offsetAt(sel.start), end: d.offsetAt(sel.end), active: d.offsetAt(sel.active), multiple: e.selections.length > 1 },
        this.now(),
      ),
    );
  }

  private onClose(d: vscode.TextDocument): void {
    const doc = d.uri.toString();
    if (!this.tracker.interestedIn(doc)) return;
    // The closed document still reads its last text.
    this.emit(this.tracker.documentClosed(doc, { text: (_doc, start, end) => textOf(d, start, end) }, this.now()));
  }

  private emit(events: readonly FeedbackParams[]): void {
    for (const e of events) {
      this.deps.log.debug(`feedback: ${e.kind} ${e.item.candidateId}${e.data ? ` ${JSON.stringify(e.data)}` : ''}`);
      this.deps.send(e);
    }
    this.schedule();
  }

  /** One timer, for the tracker's next due time. */
  private schedule(): void {
    if (this.disposed) return;
    const due = this.tracker.nextDue();
    if (due === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = due;
    if (due === undefined) return;
    const delay = Math.min(Math.max(0, due - this.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.guard('timer', () => this.emit(this.tracker.tick(this.reader, this.now())));
    }, delay);
    // Never keeps the extension host alive.
    this.timer.unref?.();
  }

  /** Feedback must never break completions or editing: failures are logged, not thrown. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.log.error(`feedback (${what}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  private readTimings(): Partial<TrackerOptions> {
    const raw = vscode.workspace.getConfiguration('winnow').get<unknown>(TIMINGS_KEY);
    if (typeof raw !== 'object' || raw === null) return {};
    const r = raw as Record<string, unknown>;
    const out: Partial<TrackerOptions> = {};
    if (typeof r.timeoutMs === 'number' && r.timeoutMs > 0) out.timeoutMs = r.timeoutMs;
    if (Array.isArray(r.survivalMs) && r.survivalMs.every((v) => typeof v === 'number' && v >= 0)) out.survivalMs = r.survivalMs as number[];
    if (Object.keys(out).length > 0) this.deps.log.warn(`feedback timings overridden by winnow.${TIMINGS_KEY}: ${JSON.stringify(out)}`);
    return out;
  }
}

/** Text of [start, end) of `d`, offsets clamped to the document. */
function textOf(d: vscode.TextDocument, start: number, end: number): string {
  const s = Math.max(0, start);
  return d.getText(new vscode.Range(d.positionAt(s), d.positionAt(Math.max(s, end))));
}
