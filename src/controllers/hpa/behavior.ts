/**
 * From a metrics recommendation to the replica count to set, as upstream's horizontal.go:
 * stabilization over recent recommendations, the scale rate limits of spec.behavior (or, without
 * behavior, the legacy max(2×, 4) limit and the controller-wide downscale window), and the
 * min/max clamp, each reporting the AbleToScale / ScalingLimited condition it implies. Pure: the
 * per-HPA history lives in a `ScalingHistory` the caller keeps, and time comes in as `now` (ms).
 */

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

interface Recommendation {
  recommendation: number;
  timestamp: number;
}

interface ScaleEvent {
  /** Always positive: pods added (scaleUp list) or removed (scaleDown list). */
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

/** What the controller remembers about one HPA between syncs (lost on restart, as upstream). */
export interface ScalingHistory {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export function newHistory(): ScalingHistory {
  return { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
}

/** Upstream seeds the history with the current size the first time it sees an HPA. */
export function recordInitialRecommendation(h: ScalingHistory, currentReplicas: number, now: number): void {
  if (!h.recommendations.length) h.recommendations.push({ recommendation: currentReplicas, timestamp: now });
}

/**
 * spec.behavior with every unset field defaulted, as the API server's v2 defaulting
 * (scale up: no window, max of 4 pods / 100% per 15 s; scale down: 100% per 15 s) plus the
 * controller's own default for the scale-down window (--horizontal-pod-autoscaler-downscale-stabilization).
 */
export function defaultedBehavior(b: Behavior, downscaleStabilizationWindowSeconds: number): Required<{ scaleUp: Required<ScalingRules>; scaleDown: Required<ScalingRules> }> {
  const up = b.scaleUp ?? {};
  const down = b.scaleDown ?? {};
  return {
    scaleUp: {
      stabilizationWindowSeconds: up.stabilizationWindowSeconds ?? 0,
      selectPolicy: up.selectPolicy ?? 'Max',
      policies: up.policies ?? [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? downscaleStabilizationWindowSeconds,
      selectPolicy: down.selectPolicy ?? 'Max',
      policies: down.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  };
}

export interface ConditionProposal {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Normalized {
  desiredReplicas: number;
  ableToScale: ConditionProposal;
  scalingLimited: ConditionProposal;
}

const READY: ConditionProposal = { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const WITHIN = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };

/** Without behavior: the highest recommendation of the window, then max(2×current, 4) and min/max. */
export function normalizeWithoutBehavior(h: ScalingHistory, currentReplicas: number, desired: number, minReplicas: number, maxReplicas: number, downscaleWindowMs: number, now: number): Normalized {
  let stabilized = desired;
  let oldIndex = -1;
  const cutoff = now - downscaleWindowMs;
  h.recommendations.forEach((r, i) => {
    if (r.timestamp < cutoff) oldIndex = i;
    else if (r.recommendation > stabilized) stabilized = r.recommendation;
  });
  const rec = { recommendation: desired, timestamp: now };
  if (oldIndex >= 0) h.recommendations[oldIndex] = rec;
  else h.recommendations.push(rec);

  const ableToScale: ConditionProposal =
    stabilized !== desired ? { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' } : READY;

  const scaleUpLimit = Math.trunc(Math.max(2 * currentReplicas, 4));
  let max: number;
  let limit: { reason: string; message: string };
  if (maxReplicas > scaleUpLimit) {
    max = scaleUpLimit;
    limit = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
  } else {
    max = maxReplicas;
    limit = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  }
  let out = stabilized;
  let why = WITHIN;
  if (stabilized < minReplicas) {
    out = minReplicas;
    why = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  } else if (stabilized > max) {
    out = max;
    why = limit;
  }
  return { desiredReplicas: out, ableToScale, scalingLimited: { status: out === stabilized ? 'False' : 'True', ...why } };
}

function changeInPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let n = 0;
  for (const e of events) if (e.timestamp > cutoff) n += e.replicaChange;
  return n;
}

/** The most replicas the scale-up policies allow now (calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimit(currentReplicas: number, h: ScalingHistory, rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = currentReplicas - changeInPeriod(p.periodSeconds, h.scaleUpEvents, now) + changeInPeriod(p.periodSeconds, h.scaleDownEvents, now);
    // Percent rounds up, or a small target could never grow.
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimit(currentReplicas: number, h: ScalingHistory, rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = currentReplicas - changeInPeriod(p.periodSeconds, h.scaleUpEvents, now) + changeInPeriod(p.periodSeconds, h.scaleDownEvents, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    // "Min" means the smallest change, which for a scale down is the largest count.
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/**
 * With behavior: keep the recommendation between the lowest of the scale-up window and the highest
 * of the scale-down window, then apply the rate policies and min/max.
 */
export function normalizeWithBehavior(h: ScalingHistory, behavior: Behavior, currentReplicas: number, desired: number, minReplicas: number, maxReplicas: number, downscaleWindowSeconds: number, now: number): Normalized {
  const b = defaultedBehavior(behavior, downscaleWindowSeconds);
  const upCutoff = now - b.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - b.scaleDown.stabilizationWindowSeconds * 1000;
  let upRec = desired;
  let downRec = desired;
  let oldIndex = -1;
  h.recommendations.forEach((r, i) => {
    if (r.timestamp > upCutoff) upRec = Math.min(upRec, r.recommendation);
    if (r.timestamp > downCutoff) downRec = Math.max(downRec, r.recommendation);
    if (r.timestamp < upCutoff && r.timestamp < downCutoff) oldIndex = i;
  });
  let stabilized = currentReplicas;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const rec = { recommendation: desired, timestamp: now };
  if (oldIndex >= 0) h.recommendations[oldIndex] = rec;
  else h.recommendations.push(rec);

  let ableToScale = READY;
  if (stabilized !== desired) {
    ableToScale =
      desired >= currentReplicas
        ? { status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  let out = stabilized;
  let why = WITHIN;
  if (stabilized > currentReplicas) {
    const limit = Math.max(scaleUpLimit(currentReplicas, h, b.scaleUp, now), currentReplicas);
    let allowed = maxReplicas;
    let reason = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    if (allowed > limit) {
      allowed = limit;
      reason = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
    }
    if (stabilized > allowed) {
      out = allowed;
      why = reason;
    }
  } else if (stabilized < currentReplicas) {
    const limit = Math.min(scaleDownLimit(currentReplicas, h, b.scaleDown, now), currentReplicas);
    let allowed = minReplicas;
    let reason = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    if (allowed < limit) {
      allowed = limit;
      reason = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };
    }
    if (stabilized < allowed) {
      out = allowed;
      why = reason;
    }
  }
  return { desiredReplicas: out, ableToScale, scalingLimited: { status: out === stabilized ? 'False' : 'True', ...why } };
}

/** Remembers a rescale for the rate policies, reusing a slot older than the longest policy period. */
export function storeScaleEvent(h: ScalingHistory, behavior: Behavior | undefined, prevReplicas: number, newReplicas: number, downscaleWindowSeconds: number, now: number): void {
  if (!behavior) return; // only the behavior policies read them
  const b = defaultedBehavior(behavior, downscaleWindowSeconds);
  const up = newReplicas > prevReplicas;
  const rules = up ? b.scaleUp : b.scaleDown;
  const events = up ? h.scaleUpEvents : h.scaleDownEvents;
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  const cutoff = now - longest * 1000;
  let slot = -1;
  events.forEach((e, i) => {
    if (e.timestamp < cutoff) e.outdated = true;
    if (e.outdated) slot = i;
  });
  const ev = { replicaChange: Math.abs(newReplicas - prevReplicas), timestamp: now, outdated: false };
  if (slot >= 0) events[slot] = ev;
  else events.push(ev);
}
