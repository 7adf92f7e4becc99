/** The log line that says what running the candidates of one completion did. */
import type { CompleteReply } from '../../engine/src/protocol';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `short`: without the `execution: ` label and the parenthesized run details (for the status bar's tooltip). */
export function executionLine(reply: Pick<CompleteReply, 'execution' | 'candidates'>, opts: { short?: boolean } = {}): string {
  const ex = reply.execution;
  const label = opts.short ? '' : 'execution: ';
  if (!ex) return `${label}not asked for`;
  if (ex.skipped) return `${label}${ex.skipped}`;
  const by = ex.bySource ?? { docstring: ex.tests, project: 0, synthesized: 0 };
  const trusted = [by.docstring > 0 ? plural(by.docstring, 'docstring example') : '', by.project > 0 ? plural(by.project, 'project test') : ''].filter(Boolean).join(' and ');
  const of = reply.candidates.length;
  const parts: string[] = [];
  parts.push(trusted ? `${ex.passedAll} of ${of} candidates passed the ${trusted}` : `no docstring examples or project tests for ${of} candidates`);
  if (by.synthesized > 0) {
    parts.push(`${plural(by.synthesized, 'model-written test')}, largest group of candidates agreeing on them: ${ex.largestAgreement ?? 0}`);
  }
  if (opts.short) return parts.join('; ');
  const where = `${ex.ran} ran in time${ex.background ? `, ${ex.background} finishing in the background` : ''}; sandbox: ${(ex.containment ?? []).join(', ') || 'none'}`;
  return `${label}${parts.join('; ')} (${where})`;
}
