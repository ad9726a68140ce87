"""Learning and statistics jobs: the weekly retraining of the scoring model, which makes a new model current
only when it beats the one in use on held-out outcomes (engine.learning.train does the training, the
comparison and the storing), and the nightly refresh of the query planner's statistics.

Retraining is idempotent by its labels: each stored model keeps a digest of the outcomes it was trained on
(`metrics["labels"]`), and a run that finds the same outcomes as the newest model trains nothing. Managers are
told, in the job's unit of work, when a model is made current.
"""

from sqlmodel import Session, select

from jobs.registry import JobContext, scheduled
from matching import db, notifications, oversight
from matching.models import ScoringModel


def newest_model(session: Session) -> ScoringModel | None:
    return session.exec(select(ScoringModel).order_by(ScoringModel.created_at.desc(),
                                                      ScoringModel.version.desc())).first()


def tell_managers(session: Session, model: ScoringModel, base_url: str) -> int:
    described = oversight.described_model(model, None)
    against = (f"{oversight.percent(described['roc_auc'])} of the time, against "
               f"{oversight.percent(described['baseline_roc_auc'])} for the scoring it replaces")
    written = 0
    for manager in notifications.active_managers(session):
        written += notifications.notify(
            session, key=f"model-promoted:{model.version}:{manager.id}", kind="model_promoted", user=manager,
            subject="Springboard: a new scoring model is in use",
            lines=[f"The weekly retraining made {model.version} the scoring model matching uses from its next run.",
                   f"On {described['held_out_rows']} recorded outcomes it had not learned from, it rated the "
                   f"successful match higher {against}.",
                   "You can compare it with the others, or make another current, on the scoring models page."],
            url=notifications.link(base_url, "/models"))
    return written


@scheduled("retrain", "Retrain the scoring model on the outcomes so far; make it current only if it does better "
                      "held out", day_of_week="sun", hour=1, minute=30)
def retrain(context: JobContext) -> str:
    from matching.engine import learning  # scikit-learn: only in the job that needs it

    session = context.session
    labels = learning.current_labels(session)
    newest = newest_model(session)
    if newest is not None and (newest.metrics or {}).get("labels") == labels:
        return f"no new outcomes since {newest.version} ({newest.status}); nothing trained"
    result = learning.train(session, today=context.today, actor_id=None,
                            models_dir=context.settings.data_dir / "models")
    if isinstance(result, dict):
        return (f"not trained: {result['labelled']} labelled outcomes, {result['successes']} successes; "
                f"{result['reason']}")
    if result.status == "current":
        told = tell_managers(session, result, context.settings.service_url)
        return f"{result.version} made current: {result.metrics['decision']}; {told} managers told"
    return f"{result.version} declined: {result.metrics['decision']}"


@scheduled("refresh_statistics", "Refresh the database's query planner statistics", own_transactions=True,
           hour=4, minute=40)
def refresh_statistics(context: JobContext) -> str:
    db.analyze(context.engine)  # PostgreSQL: VACUUM (ANALYZE), outside any transaction; SQLite: ANALYZE
    what = "VACUUM (ANALYZE)" if context.engine.dialect.name == "postgresql" else "ANALYZE"
    # The managers' dashboard keeps its counts for a minute in each web process (matching/dashboard.py): a
    # worker cannot reach that memory, and the counts are made again within a minute anyway, so it says so.
    return f"planner statistics refreshed ({what}); the dashboard's one-minute counts are per web process, untouched"
