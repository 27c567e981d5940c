import type { UsageRecord } from './record'

/**
 * A ledger record as a Workers Analytics Engine data point (`USAGE_ANALYTICS`, optional): the
 * same figures, for an operator who outgrows what D1 holds. The SQL to read it back is in
 * docs/usage.md; the positions below are its column names (`blob1`..., `double1`...).
 */
export function analyticsDataPoint(record: UsageRecord): AnalyticsEngineDataPoint {
  return {
    // The sampling key: per-principal questions stay accurate when Analytics Engine samples.
    indexes: [`${record.principalKind}:${record.principal}`.slice(0, 96)],
    blobs: [
      record.route, // blob1
      record.principalKind, // blob2
      record.principal, // blob3
      record.model, // blob4
      record.upstream, // blob5
      record.outcome, // blob6
      record.errorCode ?? '', // blob7
      record.streamId ?? '', // blob8
    ],
    doubles: [
      record.promptTokens, // double1
      record.completionTokens, // double2
      record.reasoningTokens, // double3
      record.costUsd, // double4
      record.ttftMs ?? -1, // double5: -1 when no text came
      record.durationMs, // double6
      record.estimated ? 1 : 0, // double7
      record.status, // double8
    ],
  }
}
