"""`micromall oa …`: keyword rules, the menu, and the stores' QR codes."""
from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any
import click
from flask import current_app
from flask.cli import with_appcontext

from app import wechat
from app.errors import ApiError
from app.extensions import db
from app.followers import rules as rule_service
from app.followers.service import store_scene
from app.models import Store
from app.wechat.port import WeChatError

MENU_FILE = Path(__file__).with_name("menu.json")


@click.group("oa")
def oa_cli() -> None:
    """The official account: keyword rules, menu, store QR codes."""


@oa_cli.group("rules")
def rules_cli() -> None:
    """Keyword rules that answer followers' texts."""


@rules_cli.command("add")
@click.argument("keyword")
@click.option("--match", "match_type", type=click.Choice(rule_service.MATCH_TYPES), default="exact",
              show_default=True)
@click.option("--priority", type=int, default=0, show_default=True, help="Higher wins among rules of one match.")
@click.option("--text", "text", default="", help="Reply with this text.")
@click.option("--news-title", default="", help="Reply with one news article: its title…")
@click.option("--news-url", default="", help="…its link…")
@click.option("--news-description", default="", help="…its description…")
@click.option("--news-image", default="", help="…and its picture URL.")
@with_appcontext
def rules_add(keyword: str, match_type: str, priority: int, text: str, news_title: str, news_url: str,
              news_description: str, news_image: str) -> None:
    """Add a rule; prints its id as the last line."""
    if bool(text) == bool(news_title or news_url):
        raise click.UsageError("give either --text or --news-title with --news-url")
    try:
        if text:
            rule = rule_service.add_rule(keyword, match_type, priority, "text", content=text)
        else:
            rule = rule_service.add_rule(keyword, match_type, priority, "news", content=news_description,
                                         title=news_title, url=news_url, image_url=news_image)
    except ApiError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(rule.id)


@rules_cli.command("list")
@with_appcontext
def rules_list() -> None:
    """Every rule, in the order they are tried."""
    for rule in rule_service.list_rules():
        reply = rule.content if rule.reply_type == "text" else f"[news] {rule.title} {rule.url}"
        click.echo(f"{rule.id}\t{rule.match_type}\t{rule.priority}\t{rule.keyword}\t{reply}")


@rules_cli.command("remove")
@click.argument("rule_id", type=int)
@with_appcontext
def rules_remove(rule_id: int) -> None:
    try:
        rule_service.remove_rule(rule_id)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"removed rule {rule_id}")


def load_menu(path: Path = MENU_FILE) -> dict[str, Any]:
    """The menu file with $MINIPROGRAM_APPID and $PUBLIC_BASE_URL filled in from the configuration."""
    config = current_app.config
    values = {"MINIPROGRAM_APPID": config["MINIPROGRAM_APPID"] or "", "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"]}

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(value) for value in node]
        return Template(node).substitute(values) if isinstance(node, str) else node

    return fill(json.loads(path.read_text("utf-8")))


@oa_cli.command("push-menu")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=MENU_FILE,
              show_default=True)
@with_appcontext
def push_menu(path: Path) -> None:
    """Replace the account's custom menu with the menu file (cgi-bin/menu/create)."""
    try:
        wechat.api("official_account").create_menu(load_menu(path))
    except WeChatError as exc:
        raise click.ClickException(f"WeChat refused the menu: {exc}") from None
    click.echo("menu pushed")


@oa_cli.command("store-qrcode")
@click.argument("store_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="image file to write (default: store_<id>_qrcode.<ext>, the extension of the image WeChat "
                   "sends: jpg on WeChat).")
@with_appcontext
def store_qrcode(store_id: int, out: Path | None) -> None:
    """Create the store's permanent QR code (scene store_<id>) and save its image; prints the file as the last line.
    Scanning it follows the account and attributes the follower to the store."""
    store = db.session.get(Store, store_id)
    if store is None or not store.active:
        raise click.BadParameter(f"store {store_id} does not exist or is not active", param_hint="STORE_ID")
    try:
        api = wechat.api("official_account")
        ticket = api.create_qrcode(store_scene(store_id))["ticket"]
        # showqrcode lives on mp.weixin.qq.com (WECHAT_MP_BASE_URL) and answers image/jpg there.
        image = api.qrcode_image(ticket)
    except WeChatError as exc:
        raise click.ClickException(f"could not make the QR code: {exc}") from None
    out = out or Path(f"store_{store_id}_qrcode.{image.extension}")
    out.write_bytes(image.content)
    click.echo(str(out))
