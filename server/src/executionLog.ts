/** The log line that says what running the candidates of one completion did. */
import type { CompleteReply } from '../../engine/src/protocol';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function executionLine(reply: Pick<CompleteReply, 'execution' | 'candidates'>): string {
  const ex = reply.execution;
  if (!ex) return 'execution: not asked for';
  if (ex.skipped) return `execution: ${ex.skipped}`;
  const by = ex.bySource ?? { docstring: ex.tests, project: 0, synthesized: 0 };
  const trusted = [by.docstring > 0 ? plural(by.docstring, 'docstring example') : '', by.project > 0 ? plural(by.project, 'project test') : ''].filter(Boolean).join(' and ');
  const of = reply.candidates.length;
  const parts: string[] = [];
  parts.push(trusted ? `${ex.passedAll} of ${of} candidates passed the ${trusted}` : `no docstring examples or project tests for ${of} candidates`);
  if (by.synthesized > 0) {
    parts.push(`${plural(by.synthesized, 'model-written test')}, largest group of candidates agreeing on them: ${ex.largestAgreement ?? 0}`);
  }
  const where = `${ex.ran} ran in time${ex.background ? `, ${ex.background} finishing in the background` : ''}; sandbox: ${(ex.containment ?? []).join(', ') || 'none'}`;
  return `execution: ${parts.join('; ')} (${where})`;
}
