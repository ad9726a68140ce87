"""The sender: every two minutes, the notices that are due go to the mail server (matching/notifications.py
says how a notice is never lost and when it can be sent twice)."""

from jobs.registry import JobContext, scheduled
from matching import db, notifications


@scheduled("send_notifications", "Send the notices waiting in the outbox by e-mail (SMTP), retrying with back-off",
           own_transactions=True, minute="*/2")
def send_notifications(context: JobContext) -> str:
    settings = context.settings
    if not settings.smtp_host:
        with db.session_scope(context.engine) as session:
            waiting = notifications.waiting(session).get("pending", 0)
        return f"no mail server is set (SMTP_HOST): {waiting} notices wait"
    counts = notifications.send_due(context.engine, notifications.SmtpMailer.from_settings(settings),
                                    from_address=settings.smtp_from)
    return ", ".join(f"{counts[what]} {what}" for what in ("sent", "retrying", "failed", "skipped"))
