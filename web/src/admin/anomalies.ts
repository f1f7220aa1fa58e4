/** Anomaly kinds for people: a label and the facts that matter for each kind. */
import type { Anomaly } from "../api/client";
import { count, sourceLabel } from "../format";

export const ANOMALY_KINDS: Record<string, string> = {
  insufficient_credits: "Blocked debit",
  duplicate_webhook: "Duplicate webhook",
  unattributable_webhook: "Unattributable webhook",
  partial_reversal: "Partial reversal",
  job_completed_after_refund: "Job completed after refund",
  job_billing_repaired: "Job billing repaired",
  invalid_job: "Job breaks the contract",
  reconciliation_mismatch: "Reconciliation mismatch",
  reversal_without_purchase: "Reversal without purchase",
  stripe_mismatch: "Stripe mismatch",
};

/** What the job billing sweeper did, by the billing action it reports. */
const REPAIR_ACTIONS: Record<string, string> = {
  charged: "Charged the missing debit",
  refunded: "Refunded the failed job",
  rejected: "Too few credits: job failed, nothing charged",
  invalid: "Job cannot be priced: nothing charged",
};

export function anomalyLabel(kind: string): string {
  return ANOMALY_KINDS[kind] ?? kind.replace(/_/g, " ");
}

export interface AnomalyFact {
  term: string;
  value: string;
  /** An id a person may copy (shown in monospace). */
  id?: boolean;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function num(value: unknown): string | null {
  return typeof value === "number" ? count(value) : null;
}

/** The facts of one anomaly, in reading order; missing fields are left out. */
export function anomalyFacts(a: Anomaly): AnomalyFact[] {
  const facts: [string, string | null, boolean?][] = [];
  const type = str(a.type);
  const credits = type ? ` ${type} credits` : " credits";
  switch (a.kind) {
    case "insufficient_credits":
      facts.push(
        ["Attempted", num(a.amount) && `${num(a.amount)}${credits}`],
        ["Balance", num(a.balance) && `${num(a.balance)}${credits}`],
        ["Source", str(a.source) && sourceLabel(String(a.source))],
        ["Job", str(a.jobId), true],
      );
      break;
    case "duplicate_webhook":
      facts.push(["Event", str(a.eventId), true], ["Event type", str(a.eventType)], ["Entry", str(a.entryId), true]);
      break;
    case "unattributable_webhook":
      facts.push(
        ["Why", str(a.why) && capitalized(String(a.why))],
        ["Event", str(a.eventId), true],
        ["Event type", str(a.eventType)],
        ["Context", typeof a.context === "string" ? a.context : a.context ? JSON.stringify(a.context) : null],
      );
      break;
    case "partial_reversal":
      facts.push(
        ["Reversal", str(a.source) && sourceLabel(String(a.source))],
        ["To take back", num(a.amount)],
        ["Taken", num(a.taken)],
        ["Shortfall", num(a.shortfall)],
        ["Balance", num(a.balance)],
        ["Payment", str(a.paymentId), true],
        ["Event", str(a.eventId), true],
      );
      break;
    case "job_completed_after_refund":
      facts.push(
        ["Job", str(a.jobId), true],
        ["Debit entry", str(a.debitEntryId), true],
        ["Refund entry", str(a.refundEntryId), true],
      );
      break;
    case "job_billing_repaired":
      facts.push(
        ["Job", str(a.jobId), true],
        ["Status", str(a.status)],
        ["Repair", REPAIR_ACTIONS[String(a.action)] ?? str(a.action)],
        ["Amount", num(a.amount) && `${num(a.amount)}${credits}`],
        ["Entry", str(a.entryId), true],
      );
      break;
    case "invalid_job":
      facts.push(
        ["Job", str(a.jobId), true],
        ["Field", str(a.field)],
        ["Problem", str(a.message)],
        ["Status", str(a.status)],
      );
      break;
    case "reconciliation_mismatch":
      facts.push(
        ["Mismatch", str(a.mismatchKind)],
        ["Job", str(a.jobId), true],
        ["Entry", str(a.entryId), true],
        ["Expected", num(a.expected)],
        ["Found", num(a.found)],
        ["Message", str(a.message)],
      );
      break;
    case "reversal_without_purchase":
      facts.push(["Payment", str(a.paymentId), true], ["Charge", str(a.chargeId), true], ["Message", str(a.message)]);
      break;
    case "stripe_mismatch":
      facts.push(
        ["Mismatch", str(a.mismatchKind)],
        ["Stripe object", str(a.objectId), true],
        ["Payment", str(a.paymentId), true],
        ["Message", str(a.message)],
      );
      break;
  }
  return facts
    .filter((f): f is [string, string, boolean?] => Boolean(f[1]))
    .map(([term, value, id]) => (id ? { term, value, id } : { term, value }));
}
