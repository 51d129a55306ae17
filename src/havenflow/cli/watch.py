"""``havenflow watch``: watch notes, run the checks on a schedule, and send alerts."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from havenflow.cli._common import AsJson, console, err_console, print_json, say, state
from havenflow.exceptions import DataValidationError

watch_app = typer.Typer(
    help="Watch notes: re-check them on a schedule and alert when a verdict, a trigger or the "
    "phase changes.",
    no_args_is_help=True,
)

_WATCH_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


@watch_app.command("add")
def watch_add(
    ctx: typer.Context,
    note: Annotated[str, typer.Argument(help="A note file (TOML) or a bundled note's name.")],
    watch_id: Annotated[
        str | None,
        typer.Option("--id", help="The watch's id (default: the note file's name)."),
    ] = None,
    trigger: Annotated[
        list[str] | None,
        typer.Option(
            "--trigger",
            help="Also alert when this trigger fires (silver:high(252), phase:1->2); "
            "repeatable. The note's event-study triggers are watched anyway.",
        ),
    ] = None,
) -> None:
    """Watch a note (adding the same id again replaces it)."""
    from havenflow.analytics.events import parse_trigger
    from havenflow.claims import bundled_notes, resolve_note
    from havenflow.claims.note import validate_ids
    from havenflow.monitor import WatchStore

    parsed = resolve_note(note)
    repo = state(ctx).repository()
    validate_ids(parsed, repo)
    triggers = [parse_trigger(t).text for t in trigger or []]
    if note in bundled_notes():
        source = f"bundled:{note}"
        text = bundled_notes()[note]
        default_id = note
    else:
        source = str(Path(note).resolve())
        text = Path(note).read_text(encoding="utf-8")
        default_id = Path(note).stem.lower()
    wid = watch_id or default_id
    if not _WATCH_ID.fullmatch(wid):
        raise DataValidationError(
            f"watch id {wid[:80]!r}: lowercase letters, digits, '.', '_' and '-' (at most 64); "
            "use --id"
        )
    WatchStore(state(ctx).store()).add(wid, parsed.title, source, text, triggers)
    say(f"watching {wid}: {parsed.title} ({len(parsed.claims)} claims)")


@watch_app.command("list")
def watch_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the watched notes with their last run and alert counts."""
    from havenflow.monitor import WatchStore

    watches = WatchStore(state(ctx).store())
    rows: list[dict[str, Any]] = []
    for w in watches.watches():
        history = watches.history(w.watch_id)
        alerts = watches.alerts(w.watch_id)
        rows.append(
            {
                "id": w.watch_id,
                "title": w.title,
                "source": w.source,
                "triggers": list(w.triggers),
                "runs": int(history["started_at"].nunique()) if len(history) else 0,
                "last_asof": None if history.empty else str(history["asof"].max())[:10],
                "alerts": len(alerts),
            }
        )
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("nothing is watched: add a note with `havenflow watch add NOTE`")
        return
    table = Table(title="Watched notes")
    for column in ("id", "title", "runs", "last as-of", "alerts", "triggers"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["id"],
            r["title"],
            str(r["runs"]),
            r["last_asof"] or "-",
            str(r["alerts"]),
            ", ".join(r["triggers"]) or "-",
        )
    console.print(table)


@watch_app.command("remove")
def watch_remove(
    ctx: typer.Context,
    watch_id: Annotated[str, typer.Argument(help="The watch's id (see `watch list`).")],
) -> None:
    """Stop watching a note (its alert log is kept)."""
    from havenflow.monitor import WatchStore

    WatchStore(state(ctx).store()).remove(watch_id)
    say(f"no longer watching {watch_id}")


@watch_app.command("run")
def watch_run(
    ctx: typer.Context,
    asof: Annotated[
        str | None,
        typer.Option(help="Evaluate on this date (default: each note's latest date with data)."),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not update the data first.")
    ] = False,
    webhook: Annotated[
        list[str] | None,
        typer.Option("--webhook", help="POST each alert as JSON to this URL; repeatable."),
    ] = None,
    webhook_secret_env: Annotated[
        str,
        typer.Option(
            help="Environment variable holding the webhooks' HMAC secret "
            "(X-Havenflow-Signature: sha256=...); unset: unsigned."
        ),
    ] = "HAVENFLOW_WEBHOOK_SECRET",
    email: Annotated[
        list[str] | None,
        typer.Option("--email", help="Mail each alert to this address; repeatable."),
    ] = None,
    smtp: Annotated[str, typer.Option(help="SMTP server HOST:PORT for --email.")] = "127.0.0.1:25",
    mail_from: Annotated[str, typer.Option(help="Sender address of the mails.")] = (
        "havenflow@localhost"
    ),
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Append each alert as one JSON line to this file."),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(help="Run again every interval (30s, 15m, 1h, 1d) until SIGTERM or Ctrl-C."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per alert per line.")
    ] = False,
) -> None:
    """Evaluate every watched note and raise alerts: verdict, trigger and phase changes.

    A re-run with nothing new raises nothing; alerts are recorded before they are sent, and
    one a channel did not acknowledge is sent again by the next run with that channel.
    """
    from havenflow.data.validate import parse_asof
    from havenflow.monitor import EmailChannel, FileChannel, WebhookChannel, run_watches
    from havenflow.monitor.deliver import Channel, parse_smtp
    from havenflow.monitor.run import parse_every, run_every

    if asof is not None:
        parse_asof(asof)  # refused here, before any data is read
    seconds = parse_every(every) if every is not None else None
    secret = os.environ.get(webhook_secret_env) or None
    channels: list[Channel] = [WebhookChannel(url, secret=secret) for url in webhook or []]
    if email:
        host, port = parse_smtp(smtp)
        channels += [EmailChannel(a, host=host, port=port, sender=mail_from) for a in email]
    if file is not None:
        channels.append(FileChannel(file))
    st = state(ctx)

    def once() -> None:
        outcome = run_watches(
            st.store(),
            asof=asof,
            offline=offline,
            channels=channels,
            repository=lambda store: st.repository(),
        )
        if as_json:
            for alert in outcome.raised:
                sys.stdout.write(json.dumps(alert.to_dict(), sort_keys=True, default=str) + "\n")
            sys.stdout.flush()
        else:
            when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            evaluated = ", ".join(f"{n} as of {a}" for n, a in outcome.evaluated) or "nothing"
            say(f"{when}: evaluated {evaluated}; {len(outcome.raised)} new alert(s)")
            for alert in outcome.raised:
                console.print(f"  {alert.text()}", highlight=False)
            for channel, count in outcome.delivered.items():
                say(f"  delivered {count} to {channel}", dim=True)
        for note in outcome.notes:
            err_console.print(f"warning: {note}", highlight=False)
        if not outcome.evaluated and seconds is None:
            # Not one note could be judged (each reason is printed above): a failed run.
            raise typer.Exit(2)
        for channel, errors in outcome.failed.items():
            err_console.print(
                f"warning: {len(errors)} alert(s) not delivered to {channel} ({errors[-1]}); "
                "they stay pending for the next run",
                highlight=False,
            )

    if seconds is None:
        once()
        return
    runs = run_every(seconds, once)
    err_console.print(f"stopped after {runs} run(s)", highlight=False)
