import type { Flow, HubbleEvent } from '../../../src/flows/flow';
import { InputError } from '../../../src/errors';
import type { GetFlowsRequestJson } from '../../../src/hubble/hubble-codec';
import { type GetFlowsStep, planGetFlows, walkGetFlows } from '../../../src/hubble/plan-get-flows';
import { ReplayRecording } from '../../../src/hubble/replay-recording';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (second: number) => new Date(T0 + second * 1000).toISOString();

/** Flow `p<i>` at second i, of namespace `a` for even i and `b` for odd i. */
function flow(i: number): HubbleEvent {
  const f: Flow = {
    time: at(i),
    uuid: `uuid-${i}`,
    node_name: 'node-1',
    verdict: 'FORWARDED',
    source: { namespace: i % 2 === 0 ? 'a' : 'b', pod_name: `p${i}` },
    destination: { namespace: 'db', pod_name: 'postgres-0' },
  };
  return { kind: 'flow', flow: f };
}

function recordingOf(count: number): ReplayRecording {
  const r = new ReplayRecording();
  r.record(Array.from({ length: count }, (_, i) => flow(i)));
  return r;
}

/** Pods of the flows sent, until the answer ends (`end`) or would wait for new events (`wait`). */
function answer(
  recording: ReplayRecording,
  request: GetFlowsRequestJson,
  options: { loop?: boolean; endsAtHeld?: boolean } = {},
  maxSteps = 1000,
): { pods: string[]; then: 'end' | 'wait'; steps: GetFlowsStep[] } {
  const steps: GetFlowsStep[] = [];
  const pods: string[] = [];
  for (const step of walkGetFlows(planGetFlows(request), recording, options)) {
    steps.push(step);
    if (step.kind === 'wait') return { pods, then: 'wait', steps };
    if (step.kind === 'send' && step.served.event.kind === 'flow') pods.push(step.served.event.flow.source?.pod_name ?? '?');
    if (steps.length >= maxSteps) break;
  }
  return { pods, then: 'end', steps };
}

describe('planGetFlows and walkGetFlows (Hubble GetFlows rules over a recording)', () => {
  it('gives the last N flows, oldest first, for number N without first', () => {
    expect(answer(recordingOf(10), { number: 3 })).toMatchObject({ pods: ['p7', 'p8', 'p9'], then: 'end' });
  });

  it('gives the first N flows for number N with first', () => {
    expect(answer(recordingOf(10), { number: '2', first: true })).toMatchObject({ pods: ['p0', 'p1'], then: 'end' });
  });

  it('gives the whole recording without number and since', () => {
    expect(answer(recordingOf(4), {}).pods).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('gives the flows from since to until, both included, and ends at the first flow after until', () => {
    expect(answer(recordingOf(10), { since: at(3), until: at(5) })).toMatchObject({ pods: ['p3', 'p4', 'p5'], then: 'end' });
  });

  it('gives at most N flows from since when number is set with since', () => {
    expect(answer(recordingOf(10), { since: at(6), number: 2 }).pods).toEqual(['p6', 'p7']);
  });

  it('counts only the flows that pass the filters towards number', () => {
    const onlyA = { whitelist: [{ source_pod: ['a/'] }] };
    expect(answer(recordingOf(10), { number: 2, ...onlyA }).pods).toEqual(['p6', 'p8']);
    expect(answer(recordingOf(10), { number: 2, blacklist: [{ source_pod: ['a/'] }] }).pods).toEqual(['p7', 'p9']);
  });

  it('passes node status unfiltered and does not count it towards number', () => {
    const r = new ReplayRecording();
    r.record([flow(0), { kind: 'node_status', status: { state_change: 'NODE_CONNECTED', node_names: ['node-1'] } }, flow(1)]);
    const got = answer(r, { number: 1, first: true, whitelist: [{ source_pod: ['b/'] }] });
    expect(got.steps.map((s) => (s.kind === 'send' ? `${s.served.event.kind}:${s.counted}` : s.kind))).toEqual([
      'node_status:false',
      'flow:true',
    ]);
    expect(got.pods).toEqual(['p1']);
  });

  it('with follow gives the last N, waits at the newest event, then gives what is appended', () => {
    const r = recordingOf(5);
    const walk = walkGetFlows(planGetFlows({ number: 2, follow: true }), r);
    const pods = (steps: GetFlowsStep[]) =>
      steps.flatMap((s) => (s.kind === 'send' && s.served.event.kind === 'flow' ? [s.served.event.flow.source?.pod_name] : []));
    const first: GetFlowsStep[] = [];
    for (let s = walk.next(); !s.done; s = walk.next()) {
      first.push(s.value);
      if (s.value.kind === 'wait') break;
    }
    expect(pods(first)).toEqual(['p3', 'p4']);
    expect(first.at(-1)).toEqual({ kind: 'wait' });
    r.append([flow(5), flow(6)]);
    const second: GetFlowsStep[] = [];
    for (let s = walk.next(); !s.done; s = walk.next()) {
      second.push(s.value);
      if (s.value.kind === 'wait') break;
    }
    expect(pods(second)).toEqual(['p5', 'p6']);
  });

  it('with follow and no number starts at the beginning of the recording', () => {
    expect(answer(recordingOf(3), { follow: true })).toMatchObject({ pods: ['p0', 'p1', 'p2'], then: 'wait' });
  });

  it('with follow and loop starts the next pass after the end, with a uuid of its own for each flow', () => {
    const got = answer(recordingOf(2), { follow: true }, { loop: true }, 5);
    expect(got.steps.map((s) => (s.kind === 'send' && s.served.event.kind === 'flow' ? s.served.event.flow.uuid : s.kind))).toEqual([
      'uuid-0',
      'uuid-1',
      'pass',
      expect.not.stringMatching(/^uuid-0$/),
      expect.not.stringMatching(/^uuid-1$/),
    ]);
    expect(got.pods).toEqual(['p0', 'p1', 'p0', 'p1']);
  });

  it('without follow answers a live recording with what it held when asked', () => {
    const r = recordingOf(3);
    const walk = walkGetFlows(planGetFlows({}), r, { endsAtHeld: true });
    const sent: string[] = [];
    for (let s = walk.next(); !s.done; s = walk.next()) {
      if (s.value.kind === 'send' && s.value.served.event.kind === 'flow') sent.push(s.value.served.event.flow.source?.pod_name ?? '?');
      if (sent.length === 1) r.append([flow(3)]);
    }
    expect(sent).toEqual(['p0', 'p1', 'p2']);
  });

  it('skips for a slow follower the events a live recording has forgotten', () => {
    const r = recordingOf(6);
    const walk = walkGetFlows(planGetFlows({ follow: true }), r);
    const firstStep = walk.next().value;
    expect(firstStep).toMatchObject({ kind: 'send', served: { event: { flow: { uuid: 'uuid-0' } } } });
    r.forgetBefore(2);
    const next = walk.next().value;
    expect(next).toMatchObject({ kind: 'send', served: { event: { flow: { uuid: 'uuid-4' } } } });
  });

  it('refuses first with follow, and an unreadable since, naming what is wrong', () => {
    expect(() => planGetFlows({ first: true, follow: true })).toThrow(new InputError('first cannot be specified with follow'));
    expect(() => planGetFlows({ since: 'yesterday' })).toThrow(new InputError('invalid since: yesterday'));
    expect(() => planGetFlows({ number: -1 })).toThrow(/invalid number: -1/);
    expect(() => planGetFlows({ number: '18446744073709551616' })).toThrow(/invalid number: 18446744073709551616 \(a uint64 expected\)/);
  });

  it('gives every flow for the largest uint64, as `hubble observe --all` asks', () => {
    expect(answer(recordingOf(10), { number: '18446744073709551615' })).toMatchObject({
      pods: Array.from({ length: 10 }, (_, i) => `p${i}`),
      then: 'end',
    });
  });
});
