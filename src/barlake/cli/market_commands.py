"""Market commands: symbols (an exchange's markets), universe (top-N by 24 h quote volume into
instruments.csv) and service (run `barlake sync` daily from a systemd user timer or cron)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from barlake.cli.options import LakeOpt, console

if TYPE_CHECKING:
    from barlake.service import Installed
    from barlake.sources.markets import MarketInfo, Universe

out = console()
err = console(stderr=True)

ExchangeArg = Annotated[
    str, typer.Argument(help="ccxt exchange id, e.g. binance, okx, bybit, hyperliquid.")
]
MarketOpt = Annotated[
    str, typer.Option("--market", help="spot, swap (perpetuals) or future (dated).")
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="The venue's REST root (scheme + host + port): testnet, mirror, emulator.",
    ),
]
AtOpt = Annotated[str, typer.Option("--at", help="Daily time, HH:MM, machine's local time.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Instruments file (default ./instruments.csv).", show_default=False
    ),
]


def register(app: typer.Typer) -> None:
    app.command(name="symbols", help=_help(symbols.__doc__))(symbols)
    app.command(name="universe", help=_help(universe.__doc__))(universe)
    service = typer.Typer(
        name="service", help="Run `barlake sync` every day (systemd user timer or cron).",
        no_args_is_help=True,
    )  # fmt: skip
    service.command(name="install", help=_help(install.__doc__))(install)
    service.command(name="cron", help=_help(cron.__doc__))(cron)
    app.add_typer(service, name="service")


def _help(doc: str | None) -> str:
    """A docstring as one paragraph: the help box wraps it, stray line breaks would show."""
    return " ".join((doc or "").split())


def symbols(
    exchange: ExchangeArg,
    search: Annotated[
        str | None, typer.Option(help="Keep symbols containing this, e.g. BTC.")
    ] = None,
    market: MarketOpt = "spot",
    base_url: BaseUrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """List an exchange's markets: symbol, venue id, base, quote, type, active."""
    from barlake.sources.markets import list_markets

    found = list_markets(exchange, market=market, search=search, base_url=base_url)
    if as_json:
        typer.echo(json.dumps([m.as_dict() for m in found], indent=1))
    elif found:
        out.print(_markets_table(found))
    else:
        what = f" matching {search!r}" if search else ""
        out.print(f"no {market} market{what} on {exchange}", highlight=False)


def universe(
    exchange: ExchangeArg,
    quote: Annotated[str | None, typer.Option(help="Quote currency to rank in, e.g. USDT.")] = None,
    top: Annotated[int, typer.Option(help="How many markets to keep.")] = 20,
    market: MarketOpt = "spot",
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Instruments file to write or merge into.")
    ] = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Pick the top-N markets by 24 h quote volume (one ticker call); --out merges them into an
    instruments file (rows already there are updated, others kept)."""
    from barlake.sources.markets import pick_universe

    picked = pick_universe(
        exchange, quote=quote, top=top, market=market, base_url=base_url, out=out_path
    )
    out.print(_universe_table(picked, top))
    if picked.written is not None:
        w = picked.written
        out.print(
            f"{w.path}: {w.added} added, {w.updated} updated, {w.kept} other rows kept",
            highlight=False,
        )


def install(
    at: AtOpt = "03:00",
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Show the files, write nothing.")] = False,
) -> None:
    """Write a systemd user service + timer running `barlake sync` daily (prints the systemctl
    commands to enable it; runs none itself)."""
    from barlake.service import install_service

    _show_installed(install_service(at, config, lake, dry_run=dry_run))


def cron(at: AtOpt = "03:00", config: ConfigOpt = None, lake: LakeOpt = None) -> None:
    """Print the crontab line for the same daily sync (add it with `crontab -e`)."""
    from barlake.service import cron_entry

    line, notes = cron_entry(at, config, lake)
    typer.echo(line)
    for note in notes:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)


def _markets_table(found: list[MarketInfo]) -> Table:
    table = Table("symbol", "id", "base", "quote", "type", "active")
    for m in found:
        active = "?" if m.active is None else "yes" if m.active else "[red]no[/red]"
        table.add_row(m.symbol, m.id, m.base, m.quote, m.type, active)
    return table


def _universe_table(picked: Universe, top: int) -> Table:
    caption = (
        f"{len(picked.ranked)} of the {top} asked qualify" if len(picked.ranked) < top else None
    )
    title = f"top {picked.exchange} {picked.market} markets in {picked.quote} by 24 h volume"
    table = Table("#", "instrument", "symbol", f"24 h volume ({picked.quote})", title=title)
    table.caption = caption
    names = {row.data_symbol: row.instrument for row in picked.rows}
    for rank, item in enumerate(picked.ranked, 1):
        name = names.get(item.market.symbol, "[yellow]skipped[/yellow]")
        table.add_row(str(rank), name, item.market.symbol, f"{item.quote_volume:,.0f}")
    return table


def _show_installed(done: Installed) -> None:
    verb = "wrote" if done.written else "dry run, would write"
    for path, text in (
        (done.service, done.plan.service_text()),
        (done.timer, done.plan.timer_text()),
    ):
        out.print(f"{verb} {path}", highlight=False, soft_wrap=True)
        if not done.written:
            out.print(text, markup=False, highlight=False, soft_wrap=True)
    out.print("next, run:" if done.written else "after installing, run:")
    for command in done.commands:
        out.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)
    for note in done.notes:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False, soft_wrap=True)
