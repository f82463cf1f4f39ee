import { MAX_NODE_SCORE } from '../../types.js';

/**
 * Scales scores so the highest becomes MAX_NODE_SCORE (or, reversed, so the highest becomes 0), with
 * upstream's integer arithmetic (helper.DefaultNormalizeScore).
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: number[]): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((maxPriority * scores[i]) / max);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}

export { MAX_NODE_SCORE };
