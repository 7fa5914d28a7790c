"""`helpline ai …`: measure the AI backends on anyone's labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ai_app = typer.Typer(help="Measure Helpline's AI on your own data.", no_args_is_help=True)


@ai_app.command("eval")
def eval_command(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Labelled CSV (text/utterance/message + category/label/intent columns).",
        ),
    ],
    test: Annotated[
        Path | None,
        typer.Option(
            "--test",
            exists=True,
            dir_okay=False,
            help="Separate test CSV (default: 20 % held out).",
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="ngram (default, CPU) or ensemble (needs the embeddings extra).")
    ] = "ngram",
    seed: Annotated[int, typer.Option(help="Seed for the held-out split.")] = 0,
) -> None:
    """Print accuracy, macro-F1, per-class scores, out-of-scope recall and latency."""
    if backend not in ("ngram", "ensemble"):
        raise typer.BadParameter("choose ngram or ensemble", param_hint="--backend")
    # Imported here so other `helpline` commands don't pay for scikit-learn.
    from helpline.ai.evaluation import evaluate_dataset, format_report

    try:
        report = evaluate_dataset(dataset, test_path=test, backend=backend, seed=seed)  # type: ignore[arg-type]
    except ValueError as exc:
        typer.secho(f"Cannot evaluate {dataset}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(format_report(report))


@ai_app.command("retrain")
def retrain_command() -> None:
    """Retrain the category model on the starter data plus every category correction
    agents made (the worker also does this on a schedule)."""
    from helpline.adapters.db.base import utcnow
    from helpline.adapters.db.engine import make_engine, make_session_factory
    from helpline.services.ai_assist import do_retrain, get_classifier
    from helpline.settings import Settings

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as db:
            report = do_retrain(db, now=utcnow(), classifier=get_classifier(settings))
    finally:
        engine.dispose()
    typer.echo(
        f"Category model retrained on {report.labels} correction(s) "
        f"({report.new_labels} new) in {report.seconds:.1f} s."
    )
