"""The sender: every two minutes, the notices that are due go out, by GOV.UK Notify when the council set
NOTIFY_API_KEY, else by SMTP (matching/notifications.py says how a notice is never lost and when it can be
sent twice). The daily digests go out through the same run: a held notice falls due at the digest hour
(notifications.DIGEST_AT, 07:00 in London), so a digest missed while no worker led goes at the next run."""

from jobs.registry import JobContext, scheduled
from matching import db, notifications


@scheduled("send_notifications", "Send the notices and daily digests waiting in the outbox by e-mail (SMTP or "
           "GOV.UK Notify), retrying with back-off", own_transactions=True, minute="*/2")
def send_notifications(context: JobContext) -> str:
    channel = notifications.channel_from(context.settings)
    if channel is None:
        with db.session_scope(context.engine) as session:
            counts = notifications.waiting(session)
        waiting = sum(counts.get(status, 0) for status in ("pending", "held", "digesting"))
        return f"no mail server is set (SMTP_HOST): {waiting} notices wait"  # nor NOTIFY_API_KEY
    counts = notifications.send_due(context.engine, channel)
    summary = ", ".join(f"{counts[what]} {what}" for what in ("sent", "retrying", "failed", "skipped"))
    # "found": tried before, and Notify says it had accepted it after all (so not sent again)
    return summary + (f", {counts['found']} found already sent" if counts["found"] else "")
